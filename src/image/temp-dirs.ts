/**
 * Temporary directories under <root>/rootfs: extractions in progress, and cache entries
 * being deleted. Each .tmp-<id> has a lock file beside it (.tmp-<id>.lock) that its owner
 * creates first and holds, flocked, until the directory is gone. So:
 * - a lock that can be taken means its owner died: the directory is garbage;
 * - a directory without a lock file is garbage too (the owner removes the directory
 *   before its lock file, never the other way round).
 * Being on the same filesystem as the entries, a finished extraction is published by one
 * rename(2): nobody ever sees a half-extracted tree under an entry's name.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { cacheDir, LOCK_SUFFIX, TEMP_PREFIX, tempDirOfLock } from './cache-layout.js';
import { tryLockFile, unlock, type HeldLock } from './locks.js';
import { removeTree } from './remove-tree.js';

export interface TempDir {
  /** The directory's path; the caller may create it (mkdir) or rename something onto it. */
  readonly path: string;
  /** Remove whatever is still at `path`, then drop the lock. */
  release(): Promise<void>;
}

/** Reserve a fresh .tmp-<id> (not yet created) under <root>/rootfs, guarded by its lock. */
export async function reserveTempDir(root: string): Promise<TempDir> {
  const base = cacheDir(root);
  for (;;) {
    const path = join(base, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    let lock: HeldLock | null;
    try {
      // O_EXCL: a fresh name is ours alone; EEXIST only on a random collision, try another.
      await fs.writeFile(path + LOCK_SUFFIX, '', { flag: 'wx', mode: 0o600 });
      lock = tryLockFile(path + LOCK_SUFFIX, false);
    } catch (err) {
      // EEXIST: a random collision. ENOENT: a gc reclaimed the unlocked new file. Try again.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOENT') continue;
      throw err;
    }
    if (lock === null) continue; // a gc took it between create and flock; it will remove it
    const held = lock;
    return {
      path,
      async release() {
        try {
          await removeTree(path);
          unlinkSync(held.path);
        } finally {
          unlock(held);
        }
      },
    };
  }
}

/** Remove temp dirs whose owner died (lock free or missing). Returns how many were removed. */
export async function gcImageTemps(root: string, log: Logger): Promise<number> {
  const base = cacheDir(root);
  let names: string[];
  try {
    names = await fs.readdir(base);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const present = new Set(names);
  let removed = 0;
  for (const name of names) {
    const dir = tempDirOfLock(name);
    if (dir !== null) {
      let lock: HeldLock | null;
      try {
        lock = tryLockFile(join(base, name), false);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // its owner just finished
        throw err;
      }
      if (lock === null) continue; // alive
      try {
        await removeTree(join(base, dir));
        unlinkSync(lock.path);
      } finally {
        unlock(lock);
      }
      log.info({ dir: join(base, dir) }, 'removed a partial rootfs extraction left by a dead process');
      removed++;
    } else if (name.startsWith(TEMP_PREFIX) && !name.endsWith(LOCK_SUFFIX) && !present.has(name + LOCK_SUFFIX)) {
      // Check again now: the lock is created before the directory and removed after it.
      try {
        await fs.access(join(base, name + LOCK_SUFFIX));
        continue;
      } catch {
        await removeTree(join(base, name));
        log.info({ dir: join(base, name) }, 'removed an orphaned rootfs temp directory');
        removed++;
      }
    }
  }
  return removed;
}
