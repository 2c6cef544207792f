/**
 * Whether `tsbox run` allocates a terminal: docker's -t, but on by default when the user
 * sits at a terminal, so that the plain `tsbox run rootfs.tar /bin/sh` is a proper shell.
 */
import { UsageError } from '../errors.js';

export interface TtyFacts {
  /** true: -t; false: --no-tty; undefined: neither. */
  flag: boolean | undefined;
  stdinIsTty: boolean;
  stdoutIsTty: boolean;
  detach: boolean;
  rootfsFromStdin: boolean;
}

export function decideTty(f: TtyFacts): boolean {
  if (f.flag === false) return false;
  if (f.flag === true) {
    if (f.detach) throw new UsageError('-t and -d cannot be combined: a detached container has no terminal to attach', { hint: 'Drop -t, and use tsbox logs to read its output.' });
    if (!f.stdinIsTty) throw new UsageError('-t needs a terminal on stdin, and stdin is not one', { hint: 'Run tsbox from a terminal, or drop -t (--no-tty) to use pipes.' });
    if (f.rootfsFromStdin) throw new UsageError('-t cannot be used with a rootfs read from stdin ("-")', { hint: 'Give the rootfs as a file.' });
    return true;
  }
  // By default only when both ends are a terminal: `tsbox run ... > out.txt` keeps plain pipes.
  return f.stdinIsTty && f.stdoutIsTty && !f.detach && !f.rootfsFromStdin;
}
