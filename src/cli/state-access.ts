/**
 * Before a command touches the state root: can this user use it at all? The default
 * roots (/var/lib/tsbox, /run/tsbox) belong to root; without root a command would fail
 * deep inside with a raw EACCES, or worse, list nothing from directories it cannot read
 * (as if there were no containers). One line instead, naming what is needed.
 *
 * decideStateAccess is pure; probeDir reads the facts (nearest existing directory, and
 * whether we may write and search it).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';

export interface DirFacts {
  /** The directory tsbox uses (it may not exist yet). */
  path: string;
  /** It, or its nearest existing ancestor: where tsbox would create it. */
  existing: string;
  /** Whether this user may create, write and enter entries in `existing`. */
  usable: boolean;
  /** The owner of `existing`. */
  ownerUid: number;
}

export function decideStateAccess(command: string, uid: number, dirs: readonly DirFacts[]): UsageError | null {
  const denied = dirs.find((d) => !d.usable);
  if (!denied) return null;
  const owner = denied.ownerUid === 0 ? 'root' : `uid ${denied.ownerUid}`;
  const why = denied.existing === denied.path ? `${denied.path} belongs to ${owner}` : `${denied.path} would be created in ${denied.existing}, which belongs to ${owner}`;
  return new UsageError(`tsbox ${command} needs root (${why}, and uid ${uid} may not write there)`, {
    step: 'open state root',
    hint: `Run it as root (sudo tsbox ${command}), or give --root (or TSBOX_ROOT) a directory of your own.`,
  });
}

export function probeDir(path: string): DirFacts {
  let existing = path;
  for (;;) {
    try {
      const st = statSync(existing);
      let usable = true;
      try {
        accessSync(existing, constants.W_OK | constants.X_OK);
      } catch {
        usable = false;
      }
      return { path, existing, usable: usable && st.isDirectory(), ownerUid: st.uid };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // EACCES: an ancestor we cannot search, so not this one either.
      if (code === 'EACCES') return { path, existing, usable: false, ownerUid: ownerOf(dirname(existing)) };
      if (existing === '/') return { path, existing, usable: false, ownerUid: 0 };
      existing = dirname(existing);
    }
  }
}

function ownerOf(path: string): number {
  try {
    return statSync(path).uid;
  } catch {
    return 0;
  }
}
