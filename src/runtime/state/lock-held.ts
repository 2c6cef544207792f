/**
 * Whether a container's holder is alive: it keeps an exclusive flock on the lock file for as
 * long as it lives (the kernel drops it when the process dies, even by SIGKILL). A shared
 * flock taken to ask is released at once; a missing file has no holder.
 */
import { closeSync, openSync } from 'node:fs';
import { tryFlock, unflock } from '../../sys/fd.js';

export function lockHeld(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    if (!tryFlock(fd, false)) return true;
    unflock(fd);
    return false;
  } finally {
    closeSync(fd);
  }
}
