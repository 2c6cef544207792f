/**
 * --preserve-fds N on create, run and exec: which of our fds the container's process gets
 * as its 3..3+N-1 (init/preserved-fds.ts moves them there), checked before anything is made.
 *
 * Each must be open, and be one our caller passed: if it passed fewer, our own fds sit in
 * the gaps (handing one on would give the container a piece of the runtime). Node marks every
 * inherited fd close-on-exec at start-up, so that flag tells nothing; but the first fd Node
 * keeps open is its event loop's epoll instance, which takes the lowest free number. So the
 * lowest gap in 3..3+N-1 (the first one this check reaches) always shows as an epoll fd, and
 * the eventfds and pipes Node opens next can only lie above it.
 */
import { readlinkSync } from 'node:fs';
import { UsageError } from '../../errors.js';

/** What /proc/self/fd/N links to (`pipe:[123]`, a path, `anon_inode:[eventpoll]`), or null when N is not open. */
export type FdProbe = (fd: number) => string | null;

const FIRST = 3;
const RUNTIME_OWN = 'anon_inode:[eventpoll]';

export function linuxFdProbe(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function preservedFds(count: number, step: string, probe: FdProbe = linuxFdProbe): number[] {
  const last = FIRST + count - 1;
  const what = `--preserve-fds ${count} passes fds ${FIRST}..${last}`;
  const hint = `Open the fds to pass as ${FIRST}..${last} when calling tsbox-runtime, or pass a smaller N.`;
  const fds: number[] = [];
  for (let fd = FIRST; fd <= last; fd++) {
    const target = probe(fd);
    if (target === null) throw new UsageError(`${what}, but fd ${fd} is not open`, { step, hint });
    if (target === RUNTIME_OWN) throw new UsageError(`${what}, but fd ${fd} was not passed by the caller (it is the runtime's own event loop)`, { step, hint });
    fds.push(fd);
  }
  return fds;
}
