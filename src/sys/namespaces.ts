import { check, libc } from './libc.js';

/** clone(2) namespace flags. */
export const CLONE = {
  /** unshare only: give this thread an fs_struct (root, cwd) of its own, which setns(CLONE_NEWNS) requires. */
  FS: 0x00000200,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

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
