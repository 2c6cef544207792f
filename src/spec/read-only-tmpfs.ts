/**
 * `--read-only` makes the image's root read-only, but programs expect to write to /tmp,
 * /var/tmp and /run. As podman does (--read-only-tmpfs, on by default), a read-only
 * container gets a fresh tmpfs on each of them: rw, nosuid, nodev, and noexec except on
 * /run; the tmpfs's own root mode, 1777. A path the user mounts something on (--tmpfs or
 * -v) keeps the user's mount. `--read-only-tmpfs=false` leaves them read-only too.
 * Unlike podman (tmpcopyup), what the image has in these directories is hidden, not copied.
 */
import { posix } from 'node:path';
import { UsageError } from '../errors.js';
import { MS } from '../sys/mount-flags.js';
import type { TmpfsMount } from '../mounts/plan.js';

export const READ_ONLY_TMPFS_TARGETS = ['/tmp', '/var/tmp', '/run'] as const;

export function readOnlyTmpfsMounts(opts: { readOnly: boolean; readOnlyTmpfs: boolean; userTargets: readonly string[] }): TmpfsMount[] {
  if (!opts.readOnly || !opts.readOnlyTmpfs) return [];
  const taken = new Set(opts.userTargets.map((t) => posix.normalize(t).replace(/(.)\/+$/, '$1')));
  return READ_ONLY_TMPFS_TARGETS.filter((target) => !taken.has(target)).map((target) => ({
    target,
    flags: MS.NOSUID | MS.NODEV | (target === '/run' ? 0 : MS.NOEXEC),
    data: '',
  }));
}

/** The value of `--read-only-tmpfs=true|false` (the bare flag is true). */
export function parseReadOnlyTmpfsFlag(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`invalid --read-only-tmpfs '${value}': expected true or false`, { hint: 'Use --read-only-tmpfs=false to keep /tmp, /var/tmp and /run read-only under --read-only.' });
}
