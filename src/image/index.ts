/**
 * The image module's API, used by the runtime (prepareImage, gcImageTemps) and the CLI
 * (cache listing and removal, rootfs from-host).
 */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../errors.js';
import { archiveLockPath, cacheDir, digestHex, isEntryName, LOCK_SUFFIX } from './cache-layout.js';
import { readIndex } from './cache-index.js';
import { removeLockFile } from './locks.js';
import { inspectEntry } from './cache-entry.js';
import { discardEntryDir, forgetDigest } from './prepare.js';

export { prepareImage, DEFAULT_MAX_ROOTFS_SIZE, DEFAULT_MAX_ROOTFS_ENTRIES, type ImageOptions, type PreparedImage, type PrepareDeps } from './prepare.js';
export { gcImageTemps } from './temp-dirs.js';
export { buildRootfsFromHost, type FromHostOptions, type FromHostResult } from './from-host.js';
export { RootfsError } from './errors.js';

export interface CacheEntryInfo {
  /** "sha256:<hex>". */
  digest: string;
  /** The entry's directory; its tree is `${dir}/tree`. */
  dir: string;
  /** Bytes of file content extracted (null when the entry is broken). */
  size: number | null;
  /** Last time a run used it (or when it was extracted). */
  lastUsed: Date | null;
  /** The archive it was extracted from, "-" for stdin (null when broken). */
  sourcePath: string | null;
  /** False when the marker is missing or wrong: the entry will not be used. */
  valid: boolean;
}

/** Every cache entry, most recently used first. */
export async function listCacheEntries(root: string): Promise<CacheEntryInfo[]> {
  let names: string[];
  try {
    names = await fs.readdir(cacheDir(root));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries: CacheEntryInfo[] = [];
  for (const hex of names.filter(isEntryName)) {
    const state = await inspectEntry(root, hex);
    const dir = `${cacheDir(root)}/${hex}`;
    entries.push(
      state.ok
        ? { digest: `sha256:${hex}`, dir, size: state.marker.contentBytes, lastUsed: state.lastUsed, sourcePath: state.marker.source, valid: true }
        : { digest: `sha256:${hex}`, dir, size: null, lastUsed: null, sourcePath: null, valid: false },
    );
  }
  return entries.sort((a, b) => (b.lastUsed?.getTime() ?? 0) - (a.lastUsed?.getTime() ?? 0));
}

/**
 * Delete the entry for `digest` ("sha256:<hex>" or "<hex>") and forget it in the index.
 * Returns false if there was none. Containers still using it as their lower tree are the
 * caller's concern (the CLI should refuse while any exists).
 */
export async function removeCacheEntry(root: string, digest: string): Promise<boolean> {
  const hex = digestHex(digest);
  if (hex === null) throw new UsageError(`not a sha256 digest: ${digest}`, { hint: 'Digests look like sha256:<64 hex digits>.' });
  try {
    await fs.access(cacheDir(root));
  } catch {
    return false; // no cache at all
  }
  const removed = await discardEntryDir(root, hex);
  await forgetDigest(root, `sha256:${hex}`);
  await removeUnindexedArchiveLocks(root);
  return removed;
}

/**
 * The per-archive extraction locks (rootfs/.locks/<key>.lock) of archives the index no
 * longer knows: those of removed entries, and of archives since rewritten (a new stat key).
 * Without this they pile up, one per archive version ever run. A lock someone holds (an
 * extraction in progress, perhaps of an archive not indexed yet) is left alone; removal
 * is race-free against one about to be taken (locks.ts, removeLockFile).
 */
export async function removeUnindexedArchiveLocks(root: string): Promise<number> {
  const dir = join(cacheDir(root), '.locks');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  const index = await readIndex(root);
  const known = new Set(Object.values(index.archives).map((r) => basename(archiveLockPath(root, r.key))));
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith(LOCK_SUFFIX) || known.has(name)) continue;
    if (removeLockFile(join(dir, name))) removed++;
  }
  return removed;
}
