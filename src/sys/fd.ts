import { check, koffi, libc } from './libc.js';

const fcntlFn = libc.func('int fcntl(int fd, int cmd, int arg)');
const closeRangeFn = libc.func('int close_range(unsigned int first, unsigned int last, int flags)');
const flockFn = libc.func('int flock(int fd, int operation)');
const pipe2Fn = libc.func('int pipe2(_Out_ int *fds, int flags)');

const dup2Fn = libc.func('int dup2(int oldfd, int newfd)');
const pollfd = koffi.struct('tsbox_pollfd', { fd: 'int', events: 'short', revents: 'short' });
const pollFn = libc.func('poll', 'int', [koffi.inout(koffi.pointer(pollfd)), 'unsigned long', 'int']);
const POLLIN = 0x001;

const F_DUPFD_CLOEXEC = 1030;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const CLOSE_RANGE_CLOEXEC = 1 << 2;
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;
export const O_CLOEXEC = 0o2000000;

/** Node marks fds 0-2 close-on-exec in its children; the container's command needs them. */
export function clearCloexec(fd: number): void {
  const flags = check(fcntlFn(fd, F_GETFD, 0), 'fcntl', () => `${fd}, F_GETFD`);
  check(fcntlFn(fd, F_SETFD, flags & ~FD_CLOEXEC), 'fcntl', () => `${fd}, F_SETFD, ${(flags & ~FD_CLOEXEC) === 0 ? '0' : 'FD_CLOEXEC'}`);
}

/**
 * Mark every fd from `first` up close-on-exec. Unlike closing them, this keeps fds Node
 * still uses (epoll, the error pipe) alive until execve, which then closes them all.
 */
export function cloexecFrom(first: number): void {
  check(closeRangeFn(first, 0xffffffff, CLOSE_RANGE_CLOEXEC), 'close_range', () => `${first}, ~0U, CLOSE_RANGE_CLOEXEC`);
}

/** A close-on-exec copy of `fd` at the lowest free number >= `min` (F_DUPFD_CLOEXEC). */
export function dupAtOrAbove(fd: number, min: number): number {
  return check(fcntlFn(fd, F_DUPFD_CLOEXEC, min), 'fcntl', () => `${fd}, F_DUPFD_CLOEXEC, ${min}`);
}

/** `from` copied to `to` (whatever `to` was is closed); the copy is not close-on-exec. */
export function dup2(from: number, to: number): void {
  check(dup2Fn(from, to), 'dup2', () => `${from}, ${to}`);
}

/** Try to take a flock; false if another process holds it (LOCK_NB). */
export function tryFlock(fd: number, exclusive: boolean): boolean {
  const op = (exclusive ? LOCK.EX : LOCK.SH) | LOCK.NB;
  const ret = flockFn(fd, op) as number;
  if (ret === 0) return true;
  // EWOULDBLOCK is the only expected failure; anything else is a real error.
  try {
    check(ret, 'flock', `fd ${fd}`);
  } catch (err) {
    if ((err as { code?: string }).code === 'EAGAIN') return false;
    throw err;
  }
  return false;
}

export function unflock(fd: number): void {
  check(flockFn(fd, LOCK.UN), 'flock', `fd ${fd}, LOCK_UN`);
}

/** A pipe whose ends are close-on-exec, for sync channels between parent and init. */
export function pipe(): [number, number] {
  const fds = [0, 0];
  check(pipe2Fn(fds, O_CLOEXEC), 'pipe2');
  return [fds[0]!, fds[1]!];
}

/**
 * Whether `fd` has bytes to read right now (poll, no wait). For a pty master this also
 * flushes what the slave's side wrote last into the master's buffer first (n_tty_poll).
 */
export function hasInput(fd: number): boolean {
  const entry = { fd, events: POLLIN, revents: 0 };
  const ready = check(pollFn(entry, 1, 0) as number, 'poll', () => `fd ${fd}, POLLIN, 0`);
  return ready > 0 && (entry.revents & POLLIN) !== 0;
}
