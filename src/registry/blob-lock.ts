/**
 * One download per blob at a time: two pulls that share a layer would otherwise append to
 * the same partial file. An flock on "<partial>.lock" (dropped by the kernel when its holder
 * dies, SIGKILL included, so a killed pull never blocks the next); the holder unlinks it when
 * done, and a waiter that wakes on an unlinked file tries again on the new one.
 */
import { closeSync, openSync, unlinkSync, constants } from 'node:fs';
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
