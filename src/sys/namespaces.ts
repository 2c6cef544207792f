import { check, libc } from './libc.js';

export { CLONE } from './process-flags.js';

const unshareFn = libc.func('int unshare(int flags)');
const setnsFn = libc.func('int setns(int fd, int nstype)');
const sethostnameFn = libc.func('int sethostname(const char *name, size_t len)');

export function unshare(flags: number): void {
  check(unshareFn(flags), 'unshare', `0x${flags.toString(16)}`);
}

export function setns(fd: number, nstype: number, what = ''): void {
  check(setnsFn(fd, nstype), 'setns', what || `fd ${fd}`);
}

export function sethostname(name: string): void {
  check(sethostnameFn(name, Buffer.byteLength(name)), 'sethostname', name);
}
