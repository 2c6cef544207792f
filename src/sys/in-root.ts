/**
 * The real system calls behind fs/in-root (resolver.ts decides, this only calls): O_PATH fds,
 * openat2 confined to a root, O_NOFOLLOW steps, and *at() creation relative to a directory fd.
 *
 * Names come in two encodings: an archive's member names are byte strings (latin1, one char
 * a byte: inRootBytesSys), the rest are ordinary UTF-8 strings (inRootSys). Each sys passes
 * names to the kernel and reads links and fd paths back in its own encoding, so that the
 * resolver's comparisons hold.
 */
import { fstatSync, readlinkSync } from 'node:fs';
import type { InRootKind, InRootSys } from '../fs/in-root/resolver.js';
import { AT, bytePath, close, mkdirat, O, openat, openat2, readlinkat, RESOLVE, shownPath, type PathArg } from './fs.js';
import { SysError } from './sys-error.js';

export function openDirPath(hostPath: string): number {
  return openat(AT.FDCWD, hostPath, O.PATH | O.DIRECTORY);
}

const READ_FLAGS = O.RDONLY | O.NONBLOCK | O.NOCTTY | O.CLOEXEC;

/**
 * A file to read, confined to the root. O_NONBLOCK: a FIFO opens at once instead of waiting
 * for a writer; O_NOCTTY: a terminal never becomes ours.
 */
export function openReadInRoot(rootFd: number, path: string): number {
  return openat2(rootFd, path, READ_FLAGS, 0, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS);
}

/** Where openat2 is missing: the last component, in a directory the resolver opened, never followed. */
export function openReadAt(dirFd: number, name: string): number {
  return openat(dirFd, name, READ_FLAGS | O.NOFOLLOW);
}

/**
 * A file to write, in a directory the resolver opened (kernel files: /proc/sys): the last
 * component never followed, nothing created, never a terminal of ours.
 */
export function openWriteAt(dirFd: number, name: string): number {
  return openat(dirFd, name, O.WRONLY | O.NOFOLLOW | O.NOCTTY | O.CLOEXEC);
}

/**
 * A terminal of the container's devpts, read-write, confined to the root with no symlink at
 * all on the way; never made our controlling terminal, never waiting on open.
 */
export function openTerminalInRoot(rootFd: number, path: string): number {
  return openat2(rootFd, path, O.RDWR | O.NONBLOCK | O.NOCTTY | O.CLOEXEC, 0, RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS | RESOLVE.NO_SYMLINKS);
}

/** fstat works on O_PATH fds (Linux 3.6+). */
function fdKind(fd: number): InRootKind {
  const st = fstatSync(fd);
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

const EINVAL = 22;

function makeSys(name: (n: string) => PathArg, text: (bytes: string) => string, fdPath: (fd: number) => string): InRootSys {
  return {
    openDir: openDirPath,
    reopenDir: (dirFd) => openat(dirFd, '.', O.PATH | O.DIRECTORY),
    openat2InRoot(rootFd, path, dir, noSymlinks) {
      const resolve = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS | (noSymlinks ? RESOLVE.NO_SYMLINKS : 0);
      return openat2(rootFd, name(path), O.PATH | O.CLOEXEC | (dir ? O.DIRECTORY : 0), 0, resolve);
    },
    openNoFollow: (dirFd, n, dir) => openat(dirFd, name(n), O.PATH | O.NOFOLLOW | (dir ? O.DIRECTORY : 0)),
    readlinkAt(dirFd, n) {
      try {
        return text(readlinkat(dirFd, name(n)));
      } catch (err) {
        if (err instanceof SysError && err.errno === EINVAL) return null; // not a symlink
        throw err;
      }
    },
    kind: fdKind,
    fdPath,
    mkdirAt: (dirFd, n, mode) => mkdirat(dirFd, name(n), mode),
    createFileAt: (dirFd, n, mode) => close(openat(dirFd, name(n), O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW, mode)),
    close,
    show: (path) => shownPath(name(path)),
  };
}

/** For UTF-8 names: container paths, volume targets, -w. */
export const inRootSys: InRootSys = makeSys(
  (n) => n,
  (bytes) => Buffer.from(bytes, 'latin1').toString('utf8'),
  (fd) => readlinkSync(`/proc/self/fd/${fd}`),
);

/** For byte-string names (tar members): passed to the kernel as the very bytes. */
export const inRootBytesSys: InRootSys = makeSys(
  bytePath,
  (bytes) => bytes,
  (fd) => readlinkat(AT.FDCWD, `/proc/self/fd/${fd}`),
);

export { close };
