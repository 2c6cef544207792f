/**
 * File constants (x86_64) in a module of their own that loads no FFI, as mount-flags.ts:
 * pure planners and unit tests import them without loading koffi. sys/fs.ts re-exports them.
 */

/** open(2) flags (x86_64). */
export const O = {
  RDONLY: 0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
  /** __O_TMPFILE | O_DIRECTORY, as glibc defines O_TMPFILE: an unnamed file in that directory's filesystem. */
  TMPFILE: 0o20200000,
} as const;

/** openat2 resolve flags (linux/openat2.h). */
export const RESOLVE = {
  NO_XDEV: 0x01,
  NO_MAGICLINKS: 0x02,
  NO_SYMLINKS: 0x04,
  BENEATH: 0x08,
  IN_ROOT: 0x10,
} as const;

export const AT = {
  FDCWD: -100,
  SYMLINK_NOFOLLOW: 0x100,
  REMOVEDIR: 0x200,
  EMPTY_PATH: 0x1000,
} as const;

/** File type bits of st_mode / mknod mode. */
export const S_IF = { FIFO: 0o010000, CHR: 0o020000, DIR: 0o040000, BLK: 0o060000, REG: 0o100000, LNK: 0o120000 } as const;

/** utimensat: leave this timestamp unchanged / set it to now. */
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;
