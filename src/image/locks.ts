/**
 * flock-based locks for the cache. A lock dies with its process (the kernel drops flocks
 * on exit, SIGKILL included), which is what lets a crashed extractor's leftovers be
 * recognised and reclaimed. Waiting polls with a short async sleep, so a process waiting
 * for another's extraction keeps its event loop free.
 */
import { closeSync, fstatSync, openSync, statSync, unlinkSync, constants } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryFlock } from '../sys/fd.js';

const POLL_MS = 20;

export interface HeldLock {
  readonly path: string;
  readonly fd: number;
}

/** Open (creating) `path` and take an exclusive flock on it, or null if another holds it. */
export function tryLockFile(path: string, create = true): HeldLock | null {
  const flags = constants.O_RDWR | constants.O_NOFOLLOW | (create ? constants.O_CREAT : 0);
  const fd = openSync(path, flags, 0o600); // node opens every fd close-on-exec
  try {
    if (!tryFlock(fd, true)) {
      closeSync(fd);
      return null;
    }
    // Someone may have unlinked (reclaimed) the file between our open and flock; a lock on
    // an unlinked inode guards nothing, so only a lock on the file still at `path` counts.
    if (!sameFile(fd, path)) {
      closeSync(fd);
      return null;
    }
    return { path, fd };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Wait for the lock. `onWait` is called once, when the first try finds it held; `signal`
 * gives up waiting (a signal to tsbox while another process extracts the same archive).
 */
export async function lockFile(path: string, onWait?: () => void, signal?: AbortSignal): Promise<HeldLock> {
  for (let waited = false; ; waited = true) {
    signal?.throwIfAborted();
    const lock = tryLockFile(path);
    if (lock !== null) return lock;
    if (!waited) onWait?.();
    await sleep(POLL_MS);
  }
}

/** Closing the fd drops the flock. The file stays: see removeLockFile for how to remove one. */
export function unlock(lock: HeldLock): void {
  closeSync(lock.fd);
}

/**
 * Remove a lock file nobody holds; false if someone does (or it is gone). Safe against
 * concurrent users because every taker re-checks, once it holds the flock, that the path
 * still names the inode it locked (tryLockFile): we unlink while holding the flock, so a
 * process that opened the old inode and flocks it after we close finds it unlinked and
 * tries again on a fresh file, and one that opens after the unlink creates that fresh file.
 */
export function removeLockFile(path: string): boolean {
  let lock: HeldLock | null;
  try {
    lock = tryLockFile(path, false);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (lock === null) return false;
  try {
    unlinkSync(path);
    return true;
  } finally {
    unlock(lock);
  }
}

/** Whether `path` still names the file open on `fd` (a lock file may have been unlinked and made anew). */
export function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
