/**
 * flock-based locks for the cache. A lock dies with its process (the kernel drops flocks
 * on exit, SIGKILL included), which is what lets a crashed extractor's leftovers be
 * recognised and reclaimed. Waiting polls with a short async sleep, so a process waiting
 * for another's extraction keeps its event loop free.
 */
import { closeSync, fstatSync, openSync, statSync, constants } from 'node:fs';
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

/** Closing the fd drops the flock. The file stays: unlinking a lock file races with openers. */
export function unlock(lock: HeldLock): void {
  closeSync(lock.fd);
}

function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
