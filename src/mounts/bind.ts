/**
 * A bind mount made with its per-mount flags (read-only, nosuid, nodev, noexec) before it is
 * attached, onto a target held as an fd that was resolved once: nothing is resolved by path
 * after the bind (issue #10.5).
 *
 * Why: mount(2) gives a bind MS_RDONLY only on a second call, a remount, which must name the
 * new mount; the fd of the target still names the directory under it (EINVAL), so the target
 * had to be resolved again, and a container that swapped a directory and a symlink in a
 * shared volume between the two resolutions had the remount land elsewhere (on /dev/shm, on
 * the container's root) while the `:ro` volume stayed writable (4 of 60 starts here, and the
 * container wrote into the host directory; how often depends on the load).
 *
 *  - New mount API (Linux 5.12): open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) makes the bind as a
 *    detached tree, mount_setattr(AT_RECURSIVE) sets the flags on every mount of it (so a
 *    `:ro` volume is read-only in its submounts too, as docker does since v25 where the
 *    kernel allows), move_mount attaches it on the target fd. The tree is never reachable
 *    by any path while it is still writable.
 *  - Fallback (older kernels: ENOSYS): the bind is made on a staging point in the
 *    container's own /dev tmpfs (fresh, private to this init, no process of any container
 *    can reach it yet), remounted there with its flags (the staging path is ours, so
 *    resolving it again is safe), then moved (MS_MOVE) onto the target fd. There only the
 *    top mount gets the flags (what a remount can do).
 *
 * The calls come through BindSys, so the order and the fallback are unit-tested with a fake.
 */
import { MS, mountAttrFromFlags, PER_MOUNT_FLAGS } from '../sys/mount-flags.js';
import { fdTarget } from '../fs/in-root/resolver.js';

export interface BindSys {
  /** open_tree(OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE) of a host path, or of an fd (path ""). */
  openTreeClone(dirFd: number, path: string): number;
  /** mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE) with attr_set. */
  mountSetattrTree(fd: number, attrSet: number): void;
  /** move_mount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH). */
  moveMountFd(fromFd: number, toFd: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  close(fd: number): void;
}

/** Where the fallback makes the bind before moving it: a path that only this init can reach. */
export interface BindStaging {
  /** Create the staging point (a directory or an empty file, like the source) and open it. */
  create(): number;
  /** Open it again: now the root of the bind made on it. */
  reopen(): number;
  remove(): void;
}

/** What is bound: a host path (a volume, an /etc file), or something already held as an fd. */
export type BindSource = { path: string } | { fd: number };

/** AT_FDCWD: a host path is resolved from the init's working directory (volume sources are absolute). */
const AT_FDCWD = -100;

function errCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/** The per-mount flags of a bind step: read-only or not, plus the plan's nosuid/nodev/noexec. */
export function bindMountFlags(readOnly: boolean, extra = 0): number {
  return ((readOnly ? MS.RDONLY : 0) | extra) & PER_MOUNT_FLAGS;
}

/**
 * Bind `source` (recursively) onto what `targetFd` refers to, with `flags` (MS_RDONLY,
 * MS_NOSUID, MS_NODEV, MS_NOEXEC) set before it is attached. Returns which way it went.
 */
export function bindOnto(sys: BindSys, source: BindSource, targetFd: number, flags: number, staging: () => BindStaging): 'mount-api' | 'staged' {
  let tree: number;
  try {
    tree = 'fd' in source ? sys.openTreeClone(source.fd, '') : sys.openTreeClone(AT_FDCWD, source.path);
  } catch (err) {
    if (errCode(err) !== 'ENOSYS') throw err;
    bindStaged(sys, source, targetFd, flags, staging());
    return 'staged';
  }
  try {
    const attr = mountAttrFromFlags(flags);
    if (attr !== 0) {
      try {
        sys.mountSetattrTree(tree, attr);
      } catch (err) {
        // Linux 5.2 to 5.11: open_tree without mount_setattr. The clone is dropped unattached.
        if (errCode(err) !== 'ENOSYS') throw err;
        sys.close(tree);
        tree = -1;
        bindStaged(sys, source, targetFd, flags, staging());
        return 'staged';
      }
    }
    sys.moveMountFd(tree, targetFd);
    return 'mount-api';
  } finally {
    if (tree >= 0) sys.close(tree);
  }
}

function bindStaged(sys: BindSys, source: BindSource, targetFd: number, flags: number, stage: BindStaging): void {
  const from = 'fd' in source ? fdTarget(source.fd) : source.path;
  const point = stage.create();
  try {
    sys.mount(from, fdTarget(point), null, MS.BIND | MS.REC);
  } finally {
    sys.close(point);
  }
  const top = stage.reopen();
  try {
    if (flags !== 0) sys.mount(null, fdTarget(top), null, MS.REMOUNT | MS.BIND | flags);
    sys.mount(fdTarget(top), fdTarget(targetFd), null, MS.MOVE);
  } finally {
    sys.close(top);
  }
  stage.remove();
}
