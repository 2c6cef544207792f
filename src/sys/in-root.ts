/**
 * The real system calls behind mounts/in-root.ts: O_PATH fds, openat2 confined to a root,
 * and *at() creation relative to a directory fd. Policy lives in mounts/in-root.ts.
 */
import { fstatSync, readlinkSync } from 'node:fs';
import { close, mkdirat, O, openat, openat2, RESOLVE, AT } from './fs.js';

export type FdKind = 'dir' | 'file' | 'symlink' | 'other';

export function openDirPath(hostPath: string): number {
  return openat(AT.FDCWD, hostPath, O.PATH | O.DIRECTORY);
}

/** openat2 with the root as "/": symlinks stay inside it, /proc magic links are refused. */
export function openat2InRoot(rootFd: number, path: string, noSymlinks: boolean): number {
  const resolve = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS | (noSymlinks ? RESOLVE.NO_SYMLINKS : 0);
  return openat2(rootFd, path, O.PATH | O.CLOEXEC, 0, resolve);
}

/**
 * A file to read, confined to the root like openat2InRoot. O_NONBLOCK: a FIFO opens at once
 * instead of waiting for a writer; O_NOCTTY: a terminal never becomes ours.
 */
export function openReadInRoot(rootFd: number, path: string): number {
  return openat2(rootFd, path, READ_FLAGS, 0, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS);
}

/** Where openat2 is missing: the last component is never followed (the caller resolved the rest). */
export function openReadNoFollow(hostPath: string): number {
  return openat(AT.FDCWD, hostPath, READ_FLAGS | O.NOFOLLOW);
}

const READ_FLAGS = O.RDONLY | O.NONBLOCK | O.NOCTTY | O.CLOEXEC;

/**
 * A terminal of the container's devpts, read-write, confined to the root with no symlink at
 * all on the way; never made our controlling terminal, never waiting on open.
 */
export function openTerminalInRoot(rootFd: number, path: string): number {
  return openat2(rootFd, path, O.RDWR | O.NONBLOCK | O.NOCTTY | O.CLOEXEC, 0, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS | RESOLVE.NO_SYMLINKS);
}

export function openPathNoFollow(hostPath: string): number {
  return openat(AT.FDCWD, hostPath, O.PATH | O.NOFOLLOW);
}

export function fdPath(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}

/** fstat works on O_PATH fds (Linux 3.6+). */
export function fdKind(fd: number): FdKind {
  const st = fstatSync(fd);
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

export function mkdirAt(dirFd: number, name: string, mode: number): void {
  mkdirat(dirFd, name, mode);
}

export function createFileAt(dirFd: number, name: string, mode: number): void {
  close(openat(dirFd, name, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW, mode));
}

export { close };
