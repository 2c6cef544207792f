/**
 * One cache entry: <root>/rootfs/<hex>/{tree,entry.json}. The marker is written into the
 * temp dir after extraction succeeded and goes live with it in one rename, so an entry
 * whose marker is missing, unreadable or names another digest is broken (deleted by hand,
 * disk damage) and is never used: it is removed and extracted again.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { entryDir, MARKER_NAME, TREE_NAME } from './cache-layout.js';

const markerSchema = z.object({
  digest: z.string(),
  contentBytes: z.number().int().nonnegative(),
  entries: z.number().int().nonnegative(),
  /** The archive path it was extracted from ("-" for stdin), for listings. */
  source: z.string(),
  extractedAt: z.string(),
});
export type Marker = z.infer<typeof markerSchema>;

/** Check a marker's text against the digest its directory is named after. Pure. */
export function markerMatches(text: string, hex: string): Marker | null {
  try {
    const parsed = markerSchema.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.digest === `sha256:${hex}` ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function writeMarker(dir: string, marker: Marker): Promise<void> {
  await fs.writeFile(join(dir, MARKER_NAME), JSON.stringify(marker) + '\n', { mode: 0o644 });
}

export type EntryState = { ok: true; marker: Marker; treeDir: string; lastUsed: Date } | { ok: false; exists: boolean };

/** Is the entry for `hex` complete and what it claims to be? */
export async function inspectEntry(root: string, hex: string): Promise<EntryState> {
  const dir = entryDir(root, hex);
  let text: string;
  let lastUsed: Date;
  try {
    const markerPath = join(dir, MARKER_NAME);
    [text, lastUsed] = await Promise.all([fs.readFile(markerPath, 'utf8'), fs.stat(markerPath).then((s) => s.mtime)]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
    return { ok: false, exists: await exists(dir) };
  }
  const marker = markerMatches(text, hex);
  const treeDir = join(dir, TREE_NAME);
  if (marker === null || !(await isRealDirectory(treeDir))) return { ok: false, exists: true };
  return { ok: true, marker, treeDir, lastUsed };
}

/** Record a use: the marker's mtime is the entry's last use. */
export async function touchEntry(root: string, hex: string): Promise<void> {
  const now = new Date();
  await fs.utimes(join(entryDir(root, hex), MARKER_NAME), now, now).catch(() => {});
}

/** Whether something (a file, a directory, a link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function isRealDirectory(path: string): Promise<boolean> {
  try {
    return (await fs.lstat(path)).isDirectory();
  } catch {
    return false;
  }
}
