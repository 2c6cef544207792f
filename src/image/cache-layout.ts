/**
 * Where the rootfs cache lives under the tsbox state root, and the keys it uses. Pure.
 *
 *   <root>/rootfs/<hex>/tree        an extracted archive, read-only lower tree
 *   <root>/rootfs/<hex>/entry.json  marker: written last, before the rename that publishes
 *   <root>/rootfs/.tmp-<id>/        an extraction in progress (or an entry being removed)
 *   <root>/rootfs/.tmp-<id>.lock    flocked by its owner for as long as .tmp-<id> exists
 *   <root>/rootfs/.locks/<key>.lock one per archive stat key: one extractor at a time
 *   <root>/rootfs/index.json        archive path + stat -> digest, so an unchanged archive
 *                                   is never read again
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export const TEMP_PREFIX = '.tmp-';
export const LOCK_SUFFIX = '.lock';
export const MARKER_NAME = 'entry.json';
export const TREE_NAME = 'tree';

export function cacheDir(root: string): string {
  return join(root, 'rootfs');
}
export function entryDir(root: string, hex: string): string {
  return join(cacheDir(root), hex);
}
export function indexPath(root: string): string {
  return join(cacheDir(root), 'index.json');
}
export function indexLockPath(root: string): string {
  return join(cacheDir(root), '.index.lock');
}
export function archiveLockPath(root: string, statKey: string): string {
  const name = createHash('sha256').update(statKey).digest('hex').slice(0, 32);
  return join(cacheDir(root), '.locks', `${name}${LOCK_SUFFIX}`);
}

const HEX = /^[0-9a-f]{64}$/;

/** "sha256:<hex>" or "<hex>" → hex, or null when it is not a sha256 digest. */
export function digestHex(digest: string): string | null {
  const hex = digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : digest;
  return HEX.test(hex) ? hex : null;
}

export function isEntryName(name: string): boolean {
  return HEX.test(name);
}

/** The temp dir a ".tmp-<id>.lock" file guards, or null for any other name. */
export function tempDirOfLock(name: string): string | null {
  if (!name.startsWith(TEMP_PREFIX) || !name.endsWith(LOCK_SUFFIX)) return null;
  const dir = name.slice(0, -LOCK_SUFFIX.length);
  return dir.length > TEMP_PREFIX.length ? dir : null;
}

/** The stat fields that say an archive file is unchanged. */
export interface ArchiveStat {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/**
 * path + dev + inode + size + mtime(ns) + ctime(ns). ctime too: it cannot be set back by
 * a user (touch -d restores mtime, not ctime), so a file rewritten in place with the same
 * size and a forged mtime still gets a new key.
 */
export function statKey(path: string, st: ArchiveStat): string {
  return [path, st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join('\0');
}
