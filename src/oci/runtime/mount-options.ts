/**
 * An OCI mount's options: the ones that are mount(2) flags, the propagation ones (ignored:
 * the container's mounts are private, see init/story.ts), and the rest, passed to the
 * filesystem as its data string. Pure.
 */
import { MS } from '../../sys/mount-flags.js';

/** MS_SYNCHRONOUS, MS_MANDLOCK, MS_DIRSYNC, MS_NODIRATIME (linux/mount.h): only OCI configs ask for them. */
const MS_SYNCHRONOUS = 0x10;
const MS_MANDLOCK = 0x40;
const MS_DIRSYNC = 0x80;
const MS_NODIRATIME = 0x800;

const SET: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS_SYNCHRONOUS,
  noatime: MS.NOATIME, nodiratime: MS_NODIRATIME, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
  mand: MS_MANDLOCK, dirsync: MS_DIRSYNC,
};
/** Options that only say "not the flag above" (the default). */
const DEFAULTS = new Set(['rw', 'suid', 'dev', 'exec', 'async', 'atime', 'diratime', 'norelatime', 'nomand', 'nostrictatime', 'defaults']);
const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']);
/** runc/crun extensions with no meaning for tsbox. */
const IGNORED = new Set(['tmpcopyup', 'notmpcopyup', 'copy-symlink', 'idmap', 'ridmap']);

export interface ParsedMountOptions {
  flags: number;
  bind: boolean;
  data: string;
}

export function parseMountOptions(options: readonly string[]): ParsedMountOptions {
  let flags = 0;
  let bind = false;
  const data: string[] = [];
  for (const o of options) {
    if (o === 'bind' || o === 'rbind') bind = true;
    else if (SET[o] !== undefined) flags |= SET[o]!;
    else if (DEFAULTS.has(o) || PROPAGATION.has(o) || IGNORED.has(o)) continue;
    else data.push(o);
  }
  return { flags, bind, data: data.join(',') };
}
