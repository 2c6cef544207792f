/**
 * Filesystem syscalls for rootfs extraction and tree removal: path resolution confined to
 * a tree (openat2 RESOLVE_IN_ROOT), the *at() calls that act on one final component, and
 * directory reading through a directory fd (getdents64).
 * Every function throws SysError on failure; nothing here decides policy.
 *
 * Names are bytes: a Linux file name is any byte string, and archive member names are not
 * always UTF-8. A name is passed either as a JS string (sent as its UTF-8 encoding, right
 * for host paths and plain ASCII) or as a NUL-terminated Buffer (sent as is): see bytePath.
 */
import { fstatSync } from 'node:fs';
import { check, libc, rawSyscall, SYS, tracing } from './libc.js';
import { SysError } from './sys-error.js';
import { AT, O } from './fs-flags.js';
import { dirFd, flagNames, modeText, openat2Args, openatArgs, quoted } from '../explain/format-call.js';

export { O, RESOLVE, AT, S_IF, UTIME_NOW, UTIME_OMIT } from './fs-flags.js';

const ENOSYS = 38;

/** A path or name for a call: a string (UTF-8) or a NUL-terminated Buffer of raw bytes. */
export type PathArg = string | Buffer;

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A "byte string" (one char per byte, 0-255, as Buffer's latin1 decoding makes it) as the
 * bytes it stands for. Plain ASCII stays a string (the same bytes, no allocation); anything
 * else becomes a NUL-terminated Buffer, so that a name that is not UTF-8 reaches the kernel
 * unchanged instead of being re-encoded (two names must never collapse into one).
 */
export function bytePath(bytes: string): PathArg {
  return NON_ASCII.test(bytes) ? Buffer.from(`${bytes}\0`, 'latin1') : bytes;
}

/** A path argument for messages (a Buffer's bytes shown as UTF-8 where they are). */
export function shownPath(p: PathArg): string {
  if (typeof p === 'string') return p;
  const end = p.indexOf(0);
  return p.toString('utf8', 0, end === -1 ? p.length : end);
}

const openatFn = libc.func('int openat(int dirfd, const char *path, int flags, uint32_t mode)');
const closeFn = libc.func('int close(int fd)');
const mkdiratFn = libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)');
const mknodatFn = libc.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)');
const symlinkatFn = libc.func('int symlinkat(const char *target, int dirfd, const char *path)');
const linkatFn = libc.func('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)');
const unlinkatFn = libc.func('int unlinkat(int dirfd, const char *path, int flags)');
const fchownFn = libc.func('int fchown(int fd, uint32_t uid, uint32_t gid)');
const fchownatFn = libc.func('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)');
const fchmodFn = libc.func('int fchmod(int fd, uint32_t mode)');
const fchmodatFn = libc.func('int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)');
const utimensatFn = libc.func('int utimensat(int dirfd, const char *path, const void *times, int flags)');
const futimensFn = libc.func('int futimens(int fd, const void *times)');
const fsetxattrFn = libc.func('int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)');
const lsetxattrFn = libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
const readlinkatFn = libc.func('long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)');
const writeFn = libc.func('long write(int fd, const void *buf, size_t count)');
const lseekFn = libc.func('long lseek(int fd, long offset, int whence)');
const renameat2Fn = libc.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)');

/**
 * Whether openat2 is called at all. Turned off only by `--no-openat2` (a hidden flag, for
 * testing): the CLI, and the init and exec-init through their validated plan, then act as
 * on kernels before 5.6 (openat2 fails with ENOSYS), so tests can prove the userspace
 * fallback resolves paths exactly like the kernel does.
 */
let openat2Enabled = true;

export function useOpenat2(enabled: boolean): void {
  openat2Enabled = enabled;
}

// struct open_how { __u64 flags; __u64 mode; __u64 resolve; }, reused for every call.
const openHow = Buffer.alloc(24);

/**
 * openat2(2). Throws SysError ENOSYS when the kernel lacks it (or --no-openat2 said so);
 * callers fall back to a userspace walk.
 */
export function openat2(dirfd: number, path: PathArg, flags: number, mode: number, resolve: number): number {
  if (!openat2Enabled) throw new SysError('openat2', ENOSYS, shownPath(path));
  openHow.writeBigUInt64LE(BigInt(flags), 0);
  openHow.writeBigUInt64LE(BigInt(mode), 8);
  openHow.writeBigUInt64LE(BigInt(resolve), 16);
  const ret = Number(rawSyscall(SYS.openat2, 'int', dirfd, 'const char *', path, 'void *', openHow, 'size_t', 24) as number | bigint);
  return ret >= 0 && !tracing() ? ret : check(ret, 'openat2', () => openat2Args(dirfd, shownPath(path), flags, mode, resolve));
}

export function openat(dirfd: number, path: PathArg, flags: number, mode = 0): number {
  const fd = openatFn(dirfd, path, flags | O.CLOEXEC, mode) as number;
  return fd >= 0 && !tracing() ? fd : check(fd, 'openat', () => openatArgs(dirfd, shownPath(path), flags | O.CLOEXEC, mode));
}

export function close(fd: number): void {
  const ret = closeFn(fd) as number;
  if (ret === -1 || tracing()) check(ret, 'close', () => String(fd));
}

export function mkdirat(dirfd: number, name: PathArg, mode: number): void {
  const ret = mkdiratFn(dirfd, name, mode) as number;
  if (ret === -1 || tracing()) check(ret, 'mkdirat', () => `${dirFd(dirfd)}, ${quoted(shownPath(name))}, ${modeText(mode)}`);
}

/** glibc's makedev(): the 64-bit dev_t of a major/minor pair. */
export function deviceNumber(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/** mode includes the S_IF* type bits. */
export function mknodat(dirfd: number, name: PathArg, mode: number, major: number, minor: number): void {
  check(mknodatFn(dirfd, name, mode, deviceNumber(major, minor)) as number, 'mknodat', () => `${dirFd(dirfd)}, ${quoted(shownPath(name))}, ${modeText(mode)}, makedev(${major}, ${minor})`);
}

export function symlinkat(target: PathArg, dirfd: number, name: PathArg): void {
  const ret = symlinkatFn(target, dirfd, name) as number;
  if (ret === -1 || tracing()) check(ret, 'symlinkat', () => `${quoted(shownPath(target))}, ${dirFd(dirfd)}, ${quoted(shownPath(name))}`);
}

/**
 * An unnamed regular file (O_TMPFILE, mode 0600) in `dirfd`'s filesystem, made on the libuv
 * thread pool (koffi's async call): inode allocation, which can cost a filesystem far more
 * than the rest of a file's creation, then runs beside the caller's thread. Resolves to the
 * fd, or -1 when it failed (errno does not cross threads: a caller treats any failure as
 * "not available here" and creates its files the usual way).
 */
export function openTmpfileAsync(dirfd: number): Promise<number> {
  return new Promise((resolve) => {
    openatFn.async(dirfd, '.', O.TMPFILE | O.WRONLY | O.CLOEXEC, 0o600, (err: unknown, fd: number) => resolve(err ? -1 : fd));
  });
}

/** Give the unnamed file `fd` (openTmpfileAsync) the name `newname` in `newdirfd`; EEXIST when taken, never replaced. */
export function linkTmpfile(fd: number, newdirfd: number, newname: PathArg): void {
  check(linkatFn(fd, '', newdirfd, newname, AT.EMPTY_PATH) as number, 'linkat', () => `${fd}, "", ${dirFd(newdirfd)}, ${quoted(shownPath(newname))}, AT_EMPTY_PATH`);
}

/** flags 0: a symlink as old name is linked itself, never followed. */
export function linkat(olddirfd: number, oldname: PathArg, newdirfd: number, newname: PathArg): void {
  check(linkatFn(olddirfd, oldname, newdirfd, newname, 0) as number, 'linkat', () => `${dirFd(olddirfd)}, ${quoted(shownPath(oldname))}, ${dirFd(newdirfd)}, ${quoted(shownPath(newname))}, 0`);
}

export function unlinkat(dirfd: number, name: PathArg, flags = 0): void {
  const ret = unlinkatFn(dirfd, name, flags) as number;
  if (ret === -1 || tracing()) check(ret, 'unlinkat', () => `${dirFd(dirfd)}, ${quoted(shownPath(name))}, ${flagNames(flags, { REMOVEDIR: AT.REMOVEDIR }, 'AT_')}`);
}

export function fchown(fd: number, uid: number, gid: number): void {
  const ret = fchownFn(fd, uid, gid) as number;
  if (ret === -1 || tracing()) check(ret, 'fchown', () => `${fd}, ${uid}, ${gid}`);
}

export function fchownat(dirfd: number, name: PathArg, uid: number, gid: number, flags: number): void {
  const ret = fchownatFn(dirfd, name, uid, gid, flags) as number;
  if (ret === -1 || tracing()) check(ret, 'fchownat', () => `${dirFd(dirfd)}, ${quoted(shownPath(name))}, ${uid}, ${gid}, ${flagNames(flags, { SYMLINK_NOFOLLOW: AT.SYMLINK_NOFOLLOW, EMPTY_PATH: AT.EMPTY_PATH }, 'AT_')}`);
}

export function fchmod(fd: number, mode: number): void {
  const ret = fchmodFn(fd, mode) as number;
  if (ret === -1 || tracing()) check(ret, 'fchmod', () => `${fd}, ${modeText(mode)}`);
}

/** Follows a symlink as last component (Linux has no lchmod); call it only on names just created. */
export function fchmodat(dirfd: number, name: PathArg, mode: number): void {
  const ret = fchmodatFn(dirfd, name, mode, 0) as number;
  if (ret === -1 || tracing()) check(ret, 'fchmodat', () => `${dirFd(dirfd)}, ${quoted(shownPath(name))}, ${modeText(mode)}`);
}

/** A point in time for utimensat: whole seconds plus nanoseconds (or UTIME_NOW/UTIME_OMIT in nsec). */
export interface Timespec {
  sec: number;
  nsec: number;
}

// struct timespec[2], reused for every call (the calls are synchronous).
const times = Buffer.alloc(32);

/** A 64-bit little-endian integer from a safe JS integer, without a BigInt. */
function putInt64(buf: Buffer, off: number, value: number): void {
  const high = Math.floor(value / 2 ** 32);
  buf.writeUInt32LE(value - high * 2 ** 32, off);
  buf.writeInt32LE(high, off + 4);
}

function timesBuffer(atime: Timespec, mtime: Timespec): Buffer {
  putInt64(times, 0, atime.sec);
  putInt64(times, 8, atime.nsec);
  putInt64(times, 16, mtime.sec);
  putInt64(times, 24, mtime.nsec);
  return times;
}

export function futimens(fd: number, atime: Timespec, mtime: Timespec): void {
  const ret = futimensFn(fd, timesBuffer(atime, mtime)) as number;
  if (ret === -1 || tracing()) check(ret, 'futimens', `fd ${fd}`);
}

/** Always AT_SYMLINK_NOFOLLOW: a symlink gets its own times. */
export function utimensatNoFollow(dirfd: number, name: PathArg, atime: Timespec, mtime: Timespec): void {
  const ret = utimensatFn(dirfd, name, timesBuffer(atime, mtime), AT.SYMLINK_NOFOLLOW) as number;
  if (ret === -1 || tracing()) check(ret, 'utimensat', shownPath(name));
}

export function fsetxattr(fd: number, name: string, value: Buffer): void {
  check(fsetxattrFn(fd, name, value, value.length, 0) as number, 'fsetxattr', name);
}

/**
 * Set an xattr on `name` inside the directory `dirfd` without following a symlink there:
 * the path goes through /proc/self/fd (the directory we hold), lsetxattr does not follow
 * the final component. For symlinks, devices and fifos, which cannot be opened for fsetxattr.
 */
export function setxattrAt(dirfd: number, name: PathArg, attr: string, value: Buffer): void {
  const path = typeof name === 'string' ? `/proc/self/fd/${dirfd}/${name}` : Buffer.concat([Buffer.from(`/proc/self/fd/${dirfd}/`), name]);
  check(lsetxattrFn(path, attr, value, value.length, 0) as number, 'lsetxattr', `${shownPath(name)}, ${attr}`);
}

const linkBuf = Buffer.alloc(4096);

/**
 * The target of symlink `name` in `dirfd` as a byte string (one char per byte, see
 * bytePath); SysError EINVAL if it is not a symlink.
 */
export function readlinkat(dirfd: number, name: PathArg): string {
  const n = Number(readlinkatFn(dirfd, name, linkBuf, linkBuf.length) as number | bigint);
  check(n, 'readlinkat', shownPath(name));
  return linkBuf.toString('latin1', 0, n);
}

/** write(2) the whole buffer, looping over short writes. */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    const chunk = off === 0 ? data : data.subarray(off);
    const n = Number(writeFn(fd, chunk, chunk.length) as number | bigint);
    if (n === -1 || tracing()) check(n, 'write', `fd ${fd}`);
    off += n;
  }
}

/** renameat2 flags. */
export const RENAME = { NOREPLACE: 1 } as const;

export function renameat2(olddirfd: number, oldname: PathArg, newdirfd: number, newname: PathArg, flags: number): void {
  check(renameat2Fn(olddirfd, oldname, newdirfd, newname, flags) as number, 'renameat2', `${shownPath(oldname)} -> ${shownPath(newname)}`);
}

/**
 * getdents64(2): fill `buf` with the directory's next entries (struct linux_dirent64
 * records, parsed by the caller); 0 at the end. The fd keeps its position between calls.
 */
export function getdents64(fd: number, buf: Buffer): number {
  const n = Number(rawSyscall(SYS.getdents64, 'int', fd, 'void *', buf, 'size_t', buf.length) as number | bigint);
  return n >= 0 && !tracing() ? n : check(n, 'getdents64', `fd ${fd}`);
}

/** Back to the first entry of a directory fd (lseek to 0), to read it again. */
export function rewindDir(fd: number): void {
  check(Number(lseekFn(fd, 0, 0) as number | bigint), 'lseek', `fd ${fd}, 0`);
}

/** The device a fd's file lives on (st_dev): a different one below a directory is a mount point. */
export function fstatDevice(fd: number): number {
  try {
    return fstatSync(fd).dev;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SysError('fstat', e.errno === undefined ? 0 : -e.errno, `fd ${fd}`);
  }
}

const lgetxattrFn = libc.func('long lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)');
const llistxattrFn = libc.func('long llistxattr(const char *path, _Out_ uint8_t *list, size_t size)');
const xattrBuf = Buffer.alloc(65536);

/** Names of the extended attributes of `path` itself (a symlink is not followed). */
export function llistxattr(path: string): string[] {
  const n = Number(llistxattrFn(path, xattrBuf, xattrBuf.length) as number | bigint);
  check(n, 'llistxattr', path);
  return xattrBuf.toString('utf8', 0, n).split('\0').filter(Boolean);
}

/** The value of one extended attribute of `path` itself. */
export function lgetxattr(path: string, name: string): Buffer {
  const n = Number(lgetxattrFn(path, name, xattrBuf, xattrBuf.length) as number | bigint);
  check(n, 'lgetxattr', `${path}, ${name}`);
  return Buffer.from(xattrBuf.subarray(0, n));
}

/** Mode (type and permission bits) and owner of an open fd (O_PATH fds too). */
export function fstatOwner(fd: number): { mode: number; uid: number; gid: number } {
  try {
    const st = fstatSync(fd);
    return { mode: st.mode, uid: st.uid, gid: st.gid };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SysError('fstat', e.errno === undefined ? 0 : -e.errno, `fd ${fd}`);
  }
}
