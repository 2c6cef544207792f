/**
 * The stat-keyed index: which digest an archive file had when it was last read. A hit
 * lets a second run use the cache without reading the archive at all. The file is only
 * replaced whole (temp + rename) under a lock, so readers never see half of it; a lost
 * or unreadable index only costs a re-read.
 */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { indexPath } from './cache-layout.js';

const recordSchema = z.object({ key: z.string(), digest: z.string() });
const indexSchema = z.object({ version: z.literal(1), archives: z.record(z.string(), recordSchema) });

export type IndexRecord = z.infer<typeof recordSchema>;
export type CacheIndex = z.infer<typeof indexSchema>;

/** Oldest records are dropped beyond this: the index only needs recently used archives. */
export const MAX_INDEX_RECORDS = 2000;

export function emptyIndex(): CacheIndex {
  return { version: 1, archives: {} };
}

/** Parse an index file's text; anything unusable is an empty index (it is only a cache). */
export function parseIndex(text: string): CacheIndex {
  try {
    const parsed = indexSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : emptyIndex();
  } catch {
    return emptyIndex();
  }
}

/** The digest recorded for `path`, if it was recorded under the same stat key. */
export function lookupDigest(index: CacheIndex, path: string, key: string): string | null {
  const record = index.archives[path];
  return record !== undefined && record.key === key ? record.digest : null;
}

/** A new index with `path` recorded last (most recent) and the oldest beyond the cap dropped. */
export function withRecord(index: CacheIndex, path: string, record: IndexRecord, keep: (r: IndexRecord) => boolean = () => true): CacheIndex {
  const entries = Object.entries(index.archives).filter(([p, r]) => p !== path && keep(r));
  entries.push([path, record]);
  return { version: 1, archives: Object.fromEntries(entries.slice(-MAX_INDEX_RECORDS)) };
}

export async function readIndex(root: string): Promise<CacheIndex> {
  try {
    return parseIndex(await fs.readFile(indexPath(root), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
    throw err;
  }
}

/** Replace the index atomically: write a temp file beside it, then rename over it. */
export async function writeIndex(root: string, index: CacheIndex): Promise<void> {
  const target = indexPath(root);
  const temp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFile(temp, JSON.stringify(index));
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}
