import { constants } from 'node:os';

/** errno number -> symbolic name (ENOENT...), from Node's own table. */
const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!names.has(value)) names.set(value, name);
}
// Linux's 95 is EOPNOTSUPP (ENOTSUP is its POSIX alias, first in Node's table); the kernel and
// its documentation say EOPNOTSUPP, and that is the name the meanings below know.
if (constants.errno.EOPNOTSUPP !== undefined) names.set(constants.errno.EOPNOTSUPP, 'EOPNOTSUPP');

/** Short meanings for the errnos a container runtime meets most; the rest print by name. */
const meanings: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted',
  EIO: 'input/output error',
  E2BIG: 'argument list too long',
  EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'out of memory',
  EACCES: 'permission denied',
  EFAULT: 'bad address',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty',
  EOPNOTSUPP: 'operation not supported',
  ENOEXEC: 'exec format error',
  ETXTBSY: 'text file busy',
  EDQUOT: 'disk quota exceeded',
};

export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}

export function errnoMeaning(errno: number): string {
  return meanings[errnoName(errno)] ?? 'system error';
}
