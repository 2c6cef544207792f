/**
 * Mount flags and the new mount API's constants (linux/mount.h, x86_64), in a module of
 * their own that loads no FFI: the pure planners (mounts/plan.ts, spec/parse.ts) and the
 * unit tests import them without loading koffi.
 */

/** mount(2) flags. */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  NOATIME: 0x400,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

export const MNT_DETACH = 0x2;

/** open_tree(2) flags (Linux 5.2). OPEN_TREE_CLOEXEC is O_CLOEXEC. */
export const OPEN_TREE = { CLONE: 0x1, CLOEXEC: 0o2000000 } as const;

/** The *at() flags the new mount API takes. */
export const AT_EMPTY_PATH = 0x1000;
export const AT_RECURSIVE = 0x8000;

/** mount_setattr(2) attributes (Linux 5.12): the per-mount flags, as bits of struct mount_attr. */
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8 } as const;

/** move_mount(2) flags (Linux 5.2): take the source / the target from the fd itself. */
export const MOVE_MOUNT = { F_EMPTY_PATH: 0x4, T_EMPTY_PATH: 0x40 } as const;

/** The per-mount MS_* flags a bind can carry, and the MOUNT_ATTR_* bit each one is. */
const PER_MOUNT: ReadonlyArray<readonly [number, number]> = [
  [MS.RDONLY, MOUNT_ATTR.RDONLY],
  [MS.NOSUID, MOUNT_ATTR.NOSUID],
  [MS.NODEV, MOUNT_ATTR.NODEV],
  [MS.NOEXEC, MOUNT_ATTR.NOEXEC],
];

/** MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC as MOUNT_ATTR_* bits; other MS_* flags have no per-mount meaning here. */
export function mountAttrFromFlags(flags: number): number {
  let attr = 0;
  for (const [ms, bit] of PER_MOUNT) if ((flags & ms) !== 0) attr |= bit;
  return attr;
}

/** The MS_* flags a bind keeps per mount (what a remount of the bind may set). */
export const PER_MOUNT_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;
