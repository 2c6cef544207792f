/**
 * The two ends of a copy, as O_PATH file descriptors: the host's filesystem (paths
 * resolved as usual: they are the user's own), and a running container's root.
 *
 * Every container path is resolved inside the container's root: directories through
 * InRoot (fs/in-root: openat2 RESOLVE_IN_ROOT, or its userspace walk on older kernels), so an
 * absolute symlink restarts at the container's "/" and ".." stops there; the last
 * component is opened relative to its directory with O_NOFOLLOW, and a symlink there is
 * followed (-L, or to see what a destination is) by resolving its target again inside
 * the root. Nothing under the copied tree is looked up by path afterwards (cp/copy.ts
 * walks it fd by fd), so a container cannot make cp read or write a host file, even by
 * changing its tree during the copy.
 *
 * The root is the container's PID 1's root (/proc/PID/root), opened once: the overlay and
 * the volumes exist only in the container's mount namespace, and are reached through it.
 */
import { fstatSync } from 'node:fs';
import { InRoot } from '../../fs/in-root/resolver.js';
import { inRootBytesSys } from '../../sys/in-root.js';
import { AT, close, O, openat } from '../../sys/fs.js';
import { SysError } from '../../sys/sys-error.js';
import type { NodeKind } from './plan.js';

export interface Side {
  /** O_PATH fd of the directory at path, following symlinks (inside the root, for a container). */
  openDir(clean: string): number;
  /** O_PATH fd of the node at path; a final symlink is itself unless `follow`. */
  openNode(clean: string, follow: boolean): number;
  close(): void;
}

export function kindOf(fd: number): NodeKind {
  const st = fstatSync(fd);
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** What a destination is, following a final symlink: a directory, something else, or nothing. */
export function destKind(side: Side, clean: string): 'dir' | 'non-dir' | null {
  let fd: number;
  try {
    fd = side.openNode(clean, true);
  } catch (err) {
    if (err instanceof SysError && err.code === 'ENOENT') return null;
    throw err;
  }
  try {
    return kindOf(fd) === 'dir' ? 'dir' : 'non-dir';
  } finally {
    close(fd);
  }
}

export const hostSide: Side = {
  openDir: (clean) => openat(AT.FDCWD, clean, O.PATH | O.DIRECTORY),
  openNode: (clean, follow) => openat(AT.FDCWD, clean, O.PATH | (follow ? 0 : O.NOFOLLOW)),
  close: () => {},
};

export function containerSide(rootFd: number): Side {
  const resolver = new InRoot(rootFd, inRootBytesSys);
  const parts = (clean: string) => clean.split('/').filter((p) => p !== '');
  const openNode = (clean: string, follow: boolean): number => {
    const names = parts(clean);
    if (follow) return resolver.openNode(names);
    const last = names.pop();
    const dir = resolver.openDir(names);
    if (last === undefined) return dir; // the root itself
    try {
      return openat(dir, last, O.PATH | O.NOFOLLOW);
    } finally {
      close(dir);
    }
  };
  return {
    openDir: (clean) => resolver.openDir(parts(clean)),
    openNode,
    close: () => close(rootFd),
  };
}
