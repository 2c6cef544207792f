/**
 * Filesystem syscalls for rootfs extraction: path resolution confined to a tree
 * (openat2 RESOLVE_IN_ROOT) and the *at() calls that act on one final component.
 * Every function throws SysError on failure; nothing here decides policy.
 */
import { fstatSync } from 'node:fs';
import { check, libc, rawSyscall, SYS, tracing } from './libc.js';
import { SysError } from './sys-error.js';
import { AT, O, RESOLVE } from './fs-flags.js';

export { O, RESOLVE, AT, S_IF, UTIME_NOW, UTIME_OMIT } from './fs-flags.js';

const ENOSYS = 38;

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
export function openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
  if (!openat2Enabled) throw new SysError('openat2', ENOSYS, path);
  openHow.writeBigUInt64LE(BigInt(flags), 0);
  openHow.writeBigUInt64LE(BigInt(mode), 8);
  openHow.writeBigUInt64LE(BigInt(resolve), 16);
  const ret = Number(rawSyscall(SYS.openat2, 'int', dirfd, 'const char *', path, 'void *', openHow, 'size_t', 24) as number | bigint);
  return check(ret, 'openat2', path);
}

export function openat(dirfd: number, path: string, flags: number, mode = 0): number {
  return check(openatFn(dirfd, path, flags | O.CLOEXEC, mode) as number, 'openat', path);
}

export function close(fd: number): void {
  const ret = closeFn(fd) as number;
  if (ret === -1 || tracing()) check(ret, 'close', `fd ${fd}`);
}

export function mkdirat(dirfd: number, name: string, mode: number): void {
  check(mkdiratFn(dirfd, name, mode) as number, 'mkdirat', name);
}

/** glibc's makedev(): the 64-bit dev_t of a major/minor pair. */
export function deviceNumber(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/** mode includes the S_IF* type bits. */
export function mknodat(dirfd: number, name: string, mode: number, major: number, minor: number): void {
  check(mknodatFn(dirfd, name, mode, deviceNumber(major, minor)) as number, 'mknodat', `${name}, ${major}:${minor}`);
}

export function symlinkat(target: string, dirfd: number, name: string): void {
  const ret = symlinkatFn(target, dirfd, name) as number;
  if (ret === -1 || tracing()) check(ret, 'symlinkat', `${name} -> ${target}`);
}

/** flags 0: a symlink as old name is linked itself, never followed. */
export function linkat(olddirfd: number, oldname: string, newdirfd: number, newname: string): void {
  check(linkatFn(olddirfd, oldname, newdirfd, newname, 0) as number, 'linkat', `${newname} => ${oldname}`);
}

export function unlinkat(dirfd: number, name: string, flags = 0): void {
  check(unlinkatFn(dirfd, name, flags) as number, 'unlinkat', name);
}

export function fchown(fd: number, uid: number, gid: number): void {
  const ret = fchownFn(fd, uid, gid) as number;
  if (ret === -1 || tracing()) check(ret, 'fchown', `fd ${fd}, ${uid}:${gid}`);
}

export function fchownat(dirfd: number, name: string, uid: number, gid: number, flags: number): void {
  const ret = fchownatFn(dirfd, name, uid, gid, flags) as number;
  if (ret === -1 || tracing()) check(ret, 'fchownat', `${name}, ${uid}:${gid}`);
}

export function fchmod(fd: number, mode: number): void {
  const ret = fchmodFn(fd, mode) as number;
  if (ret === -1 || tracing()) check(ret, 'fchmod', `fd ${fd}, 0${mode.toString(8)}`);
}

/** Follows a symlink as last component (Linux has no lchmod); call it only on names just created. */
export function fchmodat(dirfd: number, name: string, mode: number): void {
  const ret = fchmodatFn(dirfd, name, mode, 0) as number;
  if (ret === -1 || tracing()) check(ret, 'fchmodat', `${name}, 0${mode.toString(8)}`);
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
export function utimensatNoFollow(dirfd: number, name: string, atime: Timespec, mtime: Timespec): void {
  check(utimensatFn(dirfd, name, timesBuffer(atime, mtime), AT.SYMLINK_NOFOLLOW) as number, 'utimensat', name);
}

export function fsetxattr(fd: number, name: string, value: Buffer): void {
  check(fsetxattrFn(fd, name, value, value.length, 0) as number, 'fsetxattr', name);
}

/**
 * Set an xattr on `name` inside the directory `dirfd` without following a symlink there:
 * the path goes through /proc/self/fd (the directory we hold), lsetxattr does not follow
 * the final component. For symlinks, devices and fifos, which cannot be opened for fsetxattr.
 */
export function setxattrAt(dirfd: number, name: string, attr: string, value: Buffer): void {
  check(lsetxattrFn(`/proc/self/fd/${dirfd}/${name}`, attr, value, value.length, 0) as number, 'lsetxattr', `${name}, ${attr}`);
}

const linkBuf = Buffer.alloc(4096);

/** The target of symlink `name` in `dirfd`; SysError EINVAL if it is not a symlink. */
export function readlinkat(dirfd: number, name: string): string {
  const n = Number(readlinkatFn(dirfd, name, linkBuf, linkBuf.length) as number | bigint);
  check(n, 'readlinkat', name);
  return linkBuf.toString('utf8', 0, n);
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
