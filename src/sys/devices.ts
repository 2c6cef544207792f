import { check, libc } from './libc.js';

const mknodFn = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');

/** glibc's makedev(): the 64-bit dev_t encoding of a major/minor pair. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function mknod(path: string, mode: number, major: number, minor: number): void {
  check(mknodFn(path, mode, makedev(major, minor)), 'mknod', `${path}, ${major}:${minor}`);
}
