import { check, libc } from './libc.js';
import { cloneFlags, setnsArgs } from '../explain/format-call.js';

export { CLONE } from './process-flags.js';

const unshareFn = libc.func('int unshare(int flags)');
const setnsFn = libc.func('int setns(int fd, int nstype)');
const sethostnameFn = libc.func('int sethostname(const char *name, size_t len)');

export function unshare(flags: number): void {
  check(unshareFn(flags), 'unshare', () => cloneFlags(flags));
}

/** `what` names the namespace the fd is, for --debug and errors. */
export function setns(fd: number, nstype: number, what = ''): void {
  check(setnsFn(fd, nstype), 'setns', () => setnsArgs(fd, nstype, what));
}

export function sethostname(name: string): void {
  check(sethostnameFn(name, Buffer.byteLength(name)), 'sethostname', () => `${JSON.stringify(name)}, ${Buffer.byteLength(name)}`);
}
