/**
 * A mount's option strings ("nosuid", "ro", "rprivate", "size=64m", "rbind") as the kernel
 * takes them: MS_* flags to set and to clear, propagation changes made after the mount,
 * recursive attributes (mount_setattr), and the rest as the filesystem's data string. The
 * table follows mount(8) and the one runc and crun keep (runc libcontainer/specconv,
 * crun src/libcrun/linux.c): a name not in it is filesystem data ("mode=755", "newinstance",
 * "gid=5"), passed through. Pure.
 */
import { MS } from '../../sys/mount-flags.js';

/** mount(2) flags beyond sys/mount-flags.ts's (linux/mount.h). */
export const MS_MORE = {
  SYNCHRONOUS: 0x10,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NODIRATIME: 0x800,
  UNBINDABLE: 0x20000,
  LAZYTIME: 0x2000000,
} as const;

/** mount_setattr(2) attributes for the recursive options (rro, rnosuid...; Linux 5.12). */
export const MOUNT_ATTR_BITS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  /** The atime mode: a field, not a bit (RELATIME is 0). */
  _ATIME: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

/** Options that set (clear: false) or clear (clear: true) one flag. */
const FLAG_OPTIONS: Readonly<Record<string, { flag: number; clear: boolean }>> = {
  async: { flag: MS_MORE.SYNCHRONOUS, clear: true },
  atime: { flag: MS.NOATIME, clear: true },
  defaults: { flag: 0, clear: false },
  dev: { flag: MS.NODEV, clear: true },
  diratime: { flag: MS_MORE.NODIRATIME, clear: true },
  dirsync: { flag: MS_MORE.DIRSYNC, clear: false },
  exec: { flag: MS.NOEXEC, clear: true },
  lazytime: { flag: MS_MORE.LAZYTIME, clear: false },
  nolazytime: { flag: MS_MORE.LAZYTIME, clear: true },
  mand: { flag: MS_MORE.MANDLOCK, clear: false },
  noatime: { flag: MS.NOATIME, clear: false },
  nodev: { flag: MS.NODEV, clear: false },
  nodiratime: { flag: MS_MORE.NODIRATIME, clear: false },
  noexec: { flag: MS.NOEXEC, clear: false },
  nomand: { flag: MS_MORE.MANDLOCK, clear: true },
  norelatime: { flag: MS.RELATIME, clear: true },
  nostrictatime: { flag: MS.STRICTATIME, clear: true },
  nosuid: { flag: MS.NOSUID, clear: false },
  nosymfollow: { flag: MS_MORE.NOSYMFOLLOW, clear: false },
  symfollow: { flag: MS_MORE.NOSYMFOLLOW, clear: true },
  relatime: { flag: MS.RELATIME, clear: false },
  remount: { flag: MS.REMOUNT, clear: false },
  ro: { flag: MS.RDONLY, clear: false },
  rw: { flag: MS.RDONLY, clear: true },
  strictatime: { flag: MS.STRICTATIME, clear: false },
  suid: { flag: MS.NOSUID, clear: true },
  sync: { flag: MS_MORE.SYNCHRONOUS, clear: false },
};

/** Propagation options: applied with a second mount(2) on the target after the mount. */
export const PROPAGATION: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS_MORE.UNBINDABLE,
  runbindable: MS_MORE.UNBINDABLE | MS.REC,
};

/** Recursive attributes (runc 1.1's "rro"...): set or clear a MOUNT_ATTR_* on the whole tree. */
const RECURSIVE_OPTIONS: Readonly<Record<string, { set: number; clear: number }>> = {
  rro: { set: MOUNT_ATTR_BITS.RDONLY, clear: 0 },
  rrw: { set: 0, clear: MOUNT_ATTR_BITS.RDONLY },
  rnosuid: { set: MOUNT_ATTR_BITS.NOSUID, clear: 0 },
  rsuid: { set: 0, clear: MOUNT_ATTR_BITS.NOSUID },
  rnodev: { set: MOUNT_ATTR_BITS.NODEV, clear: 0 },
  rdev: { set: 0, clear: MOUNT_ATTR_BITS.NODEV },
  rnoexec: { set: MOUNT_ATTR_BITS.NOEXEC, clear: 0 },
  rexec: { set: 0, clear: MOUNT_ATTR_BITS.NOEXEC },
  rnodiratime: { set: MOUNT_ATTR_BITS.NODIRATIME, clear: 0 },
  rdiratime: { set: 0, clear: MOUNT_ATTR_BITS.NODIRATIME },
  rrelatime: { set: MOUNT_ATTR_BITS.RELATIME, clear: MOUNT_ATTR_BITS._ATIME },
  rnorelatime: { set: 0, clear: 0 },
  rnoatime: { set: MOUNT_ATTR_BITS.NOATIME, clear: MOUNT_ATTR_BITS._ATIME },
  ratime: { set: 0, clear: MOUNT_ATTR_BITS.NOATIME },
  rstrictatime: { set: MOUNT_ATTR_BITS.STRICTATIME, clear: MOUNT_ATTR_BITS._ATIME },
  rnostrictatime: { set: 0, clear: MOUNT_ATTR_BITS.STRICTATIME },
  rnosymfollow: { set: MOUNT_ATTR_BITS.NOSYMFOLLOW, clear: 0 },
  rsymfollow: { set: 0, clear: MOUNT_ATTR_BITS.NOSYMFOLLOW },
};

/** Options that need what tsbox does not have (a user namespace for id-mapped mounts). */
const REFUSED: Readonly<Record<string, string>> = {
  idmap: 'id-mapped mounts need user namespaces, which tsbox does not support yet',
  ridmap: 'id-mapped mounts need user namespaces, which tsbox does not support yet',
};

export interface ParsedMountOptions {
  /** MS_* flags to set, MS_BIND|MS_REC included for bind/rbind. */
  flags: number;
  /** MS_* flags an option asked to clear ("rw", "dev", "exec"...): a remount must not set them. */
  cleared: number;
  /** Propagation changes in the order given (MS_PRIVATE|MS_REC...). */
  propagation: number[];
  /** mount_setattr(AT_RECURSIVE) attributes, when an r* option asked for them. */
  recursive: { set: number; clear: number } | null;
  /** The filesystem's own options, comma-joined: "mode=755,size=65536k". */
  data: string;
  bind: boolean;
  /** rbind (or bind with type "rbind"): the whole tree under the source. */
  recursiveBind: boolean;
  /** "tmpcopyup" (runc's and crun's extension): fill a tmpfs with what the image has under it. */
  copyUp: boolean;
}

/** Parse a mount's options; `refuse(option, why)` is thrown for an option tsbox cannot honour. */
export function parseMountOptions(options: readonly string[], refuse: (option: string, why: string) => Error): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, cleared: 0, propagation: [], recursive: null, data: '', bind: false, recursiveBind: false, copyUp: false };
  const data: string[] = [];
  for (const raw of options) {
    const option = raw.trim();
    if (option === '') continue;
    const flag = FLAG_OPTIONS[option];
    if (flag) {
      if (flag.clear) {
        out.flags &= ~flag.flag;
        out.cleared |= flag.flag;
      } else {
        out.flags |= flag.flag;
        out.cleared &= ~flag.flag;
      }
      continue;
    }
    if (option === 'bind' || option === 'rbind') {
      out.bind = true;
      out.recursiveBind ||= option === 'rbind';
      continue;
    }
    const propagation = PROPAGATION[option];
    if (propagation !== undefined) {
      out.propagation.push(propagation);
      continue;
    }
    const recursive = RECURSIVE_OPTIONS[option];
    if (recursive) {
      const r = (out.recursive ??= { set: 0, clear: 0 });
      r.set = (r.set & ~recursive.clear) | recursive.set;
      r.clear = (r.clear & ~recursive.set) | recursive.clear;
      continue;
    }
    if (option === 'tmpcopyup') {
      out.copyUp = true;
      continue;
    }
    const refused = REFUSED[option];
    if (refused) throw refuse(option, refused);
    data.push(option);
  }
  if (out.bind) out.flags |= MS.BIND | (out.recursiveBind ? MS.REC : 0);
  out.data = data.join(',');
  return out;
}

/** The option names tsbox understands, for `features` (mountOptions). */
export function knownMountOptions(): string[] {
  return [...Object.keys(FLAG_OPTIONS), 'bind', 'rbind', ...Object.keys(PROPAGATION), ...Object.keys(RECURSIVE_OPTIONS), 'tmpcopyup'].sort();
}

/** rootfsPropagation's values, as the flags tsbox gives the container's "/" (runc's default: rslave). */
export function rootfsPropagationFlags(value: string | null | undefined, fail: (what: string) => Error): number {
  if (value === undefined || value === null || value === '') return MS.SLAVE | MS.REC;
  const flags = PROPAGATION[value];
  if (flags === undefined) throw fail(`'${value}' is not one of ${Object.keys(PROPAGATION).join(', ')}`);
  return flags;
}
