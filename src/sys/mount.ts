import { check, libc, rawSyscall, SYS } from './libc.js';
import { AT_EMPTY_PATH, AT_RECURSIVE, MNT_DETACH, MOVE_MOUNT, OPEN_TREE } from './mount-flags.js';
import { AT } from './fs-flags.js';
import { mountArgs, mountAttrFlags, openTreeFlags } from '../explain/format-call.js';

// The flags live in mount-flags.ts (no FFI); re-exported for the executors that also call mount(2).
export { MNT_DETACH, MS } from './mount-flags.js';

const mountFn = libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
const umount2Fn = libc.func('int umount2(const char *target, int flags)');


export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check(mountFn(source, target, fstype, flags, data), 'mount', () => mountArgs(source, target, fstype, flags, data));
}

export function umount2(target: string, flags: number): void {
  check(umount2Fn(target, flags), 'umount2', () => `${JSON.stringify(target)}, ${flags === MNT_DETACH ? 'MNT_DETACH' : flags}`);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  const ret = rawSyscall(SYS.pivot_root, 'const char *', newRoot, 'const char *', putOld) as number | bigint;
  check(Number(ret), 'pivot_root', () => `${JSON.stringify(newRoot)}, ${JSON.stringify(putOld)}`);
}

/**
 * open_tree(OPEN_TREE_CLONE|AT_RECURSIVE): a detached copy of the mount tree at `path` (or at
 * the fd itself, with an empty path), held by the returned fd: the bind that mount(MS_BIND|MS_REC)
 * would make, not yet attached anywhere. Throws SysError ENOSYS before Linux 5.2.
 */
export function openTreeClone(dirFd: number, path: string): number {
  const flags = OPEN_TREE.CLONE | OPEN_TREE.CLOEXEC | AT_RECURSIVE | (path === '' ? AT_EMPTY_PATH : 0);
  const ret = rawSyscall(SYS.open_tree, 'int', dirFd, 'const char *', path, 'unsigned int', flags) as number | bigint;
  return Number(check(Number(ret), 'open_tree', () => `${dirFd === AT.FDCWD ? 'AT_FDCWD' : dirFd}, ${JSON.stringify(path)}, ${openTreeFlags(flags)}`));
}

/**
 * mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE): set MOUNT_ATTR_* bits on every mount of
 * the tree the fd holds. Throws SysError ENOSYS before Linux 5.12.
 */
export function mountSetattrTree(fd: number, attrSet: number): void {
  // struct mount_attr { __u64 attr_set, attr_clr, propagation, userns_fd; }
  const attr = Buffer.alloc(32);
  attr.writeBigUInt64LE(BigInt(attrSet), 0);
  const ret = rawSyscall(SYS.mount_setattr, 'int', fd, 'const char *', '', 'unsigned int', AT_EMPTY_PATH | AT_RECURSIVE, 'void *', attr, 'size_t', 32) as number | bigint;
  check(Number(ret), 'mount_setattr', () => `${fd}, "", AT_EMPTY_PATH|AT_RECURSIVE, {attr_set: ${mountAttrFlags(attrSet)}}, 32`);
}

/** move_mount(fromFd, "", toFd, ""): attach the tree held by fromFd on exactly what toFd refers to. */
export function moveMountFd(fromFd: number, toFd: number): void {
  const flags = MOVE_MOUNT.F_EMPTY_PATH | MOVE_MOUNT.T_EMPTY_PATH;
  const ret = rawSyscall(SYS.move_mount, 'int', fromFd, 'const char *', '', 'int', toFd, 'const char *', '', 'unsigned int', flags) as number | bigint;
  check(Number(ret), 'move_mount', () => `${fromFd}, "", ${toFd}, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH`);
}
