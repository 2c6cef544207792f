/**
 * tsbox-runtime --preserve-fds N (runc's meaning): besides stdio, the caller's fds 3..3+N-1
 * reach the container's process as its fds 3..3+N-1 (socket activation's LISTEN_FDS, podman's
 * --preserve-fds). They cannot travel at 3.. all the way: in an init, fd 3 is the sync socket
 * and the fds after it are the namespaces it is passed. So the runtime hands them over right
 * after those, and they are moved down to 3.. last, when nothing of ours needs the low numbers:
 * by dup2 just before execve (the container's init), or by posix_spawn's file actions in the
 * command alone (the exec-init, which keeps its sync socket until the command runs).
 */
import { dup2, dupAtOrAbove } from '../sys/fd.js';
import type { InitChannel } from './channel.js';
import { LATE_NETNS_FD, SYNC_FD } from './protocol.js';
import { PID_NS_FD } from './exec-protocol.js';

/** Where the command's fd 3 is. */
export const FIRST_PRESERVED_TARGET = 3;

/** In the container's init: after the sync socket and the late network namespace, if any. */
export function initPreservedFrom(lateNetns: boolean): number {
  return (lateNetns ? LATE_NETNS_FD : SYNC_FD) + 1;
}

/** In the exec-init: after the container's mount and PID namespaces. */
export const EXEC_PRESERVED_FROM = PID_NS_FD + 1;

/**
 * The dup2s that put fds from..from+count-1 at 3..3+count-1, in this order. Ascending is safe
 * because from > 3: each target is below its own source, so no later source is overwritten
 * before it is copied.
 */
export function preservedFdMoves(from: number, count: number): Array<[from: number, to: number]> {
  if (!Number.isInteger(from) || from <= FIRST_PRESERVED_TARGET) throw new Error(`preserved fds must be passed above fd ${FIRST_PRESERVED_TARGET}, not at ${from}`);
  return Array.from({ length: count }, (_, i) => [from + i, FIRST_PRESERVED_TARGET + i]);
}

export interface PlaceFdsSys {
  dupAtOrAbove(fd: number, min: number): number;
  dup2(from: number, to: number): void;
}

export const linuxPlaceFdsSys: PlaceFdsSys = { dupAtOrAbove, dup2 };

/**
 * The container's init, right before execve (every fd of ours is close-on-exec by now): the
 * sync socket leaves fd 3 first (an error after this must still reach create or our stderr,
 * not the caller's fd), then the moves. dup2's copies are not close-on-exec: exactly these
 * fds, and stdio, survive the execve.
 */
export function placePreservedFds(channel: Pick<InitChannel, 'moveTo'>, from: number, count: number, sys: PlaceFdsSys = linuxPlaceFdsSys): void {
  if (count === 0) return;
  const moves = preservedFdMoves(from, count);
  channel.moveTo(sys.dupAtOrAbove(SYNC_FD, from + count));
  for (const [src, dst] of moves) sys.dup2(src, dst);
}
