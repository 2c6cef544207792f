/**
 * One download per blob at a time: two pulls that share a layer would otherwise append to
 * the same partial file. An flock on "<partial>.lock" (dropped by the kernel when its holder
 * dies, SIGKILL included, so a killed pull never blocks the next); the holder unlinks it when
 * done, and a waiter that wakes on an unlinked file tries again on the new one.
 */
import { closeSync, openSync, readdirSync, rmSync, unlinkSync, constants } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryFlock } from '../sys/fd.js';
import { sameFile } from '../image/locks.js';

const POLL_MS = 50;


export async function withBlobLock<T>(path: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  let fd: number;
  for (;;) {
    signal?.throwIfAborted();
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    if (tryFlock(fd, true) && sameFile(fd, path)) break;
    closeSync(fd);
    await sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // already gone: nothing to tidy
    }
    closeSync(fd);
  }
}

/**
 * Remove the partial downloads under `dir` that no pull is writing (killed pulls never
 * resumed): a partial whose lock can be taken has no live writer. The lock is held while
 * the file goes, so a pull starting meanwhile waits, then finds the lock file unlinked and
 * starts over on a new one. Returns the partials removed.
 */
export function removeAbandonedPartials(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (name.endsWith('.lock') || !/^sha(256|512)-[0-9a-f]+$/.test(name)) continue;
    const lockPath = join(dir, `${name}.lock`);
    const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      if (!tryFlock(fd, true) || !sameFile(fd, lockPath)) continue; // a pull is downloading it
      rmSync(join(dir, name), { force: true });
      unlinkSync(lockPath);
      removed.push(name);
    } finally {
      closeSync(fd);
    }
  }
  return removed;
}
