/**
 * Whether `tsbox run` allocates a terminal: docker's -t, but on by default when stdin is a
 * terminal, so that the plain `tsbox run rootfs.tar /bin/sh` is a proper interactive shell.
 *
 * stdin decides, not stdout: someone typing at a terminal gets a terminal, wherever the
 * output goes (`tsbox run r.tar sh > log` is still a shell with line editing and job
 * control, as `docker run -it ... > log` is). A pipe or file on stdin means a script feeds
 * the command: it gets plain pipes, byte for byte, with stderr apart from stdout.
 */
import { UsageError } from '../errors.js';

export interface TtyFacts {
  /** true: -t; false: --no-tty; undefined: neither. */
  flag: boolean | undefined;
  stdinIsTty: boolean;
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
  // A detached container has nobody at its terminal; a rootfs read from stdin uses stdin up.
  return f.stdinIsTty && !f.detach && !f.rootfsFromStdin;
}
