/**
 * Executes a mount plan inside the container's new root. Runs in the init, in the
 * container's mount namespace, before pivot_root.
 *
 * Every target is opened inside the root as an fd (mounts/in-root.ts: openat2
 * RESOLVE_IN_ROOT, or the userspace resolver where openat2 is missing) and mount(2) is
 * given /proc/self/fd/N: a symlink in the image, or one swapped into a shared volume while
 * we work, can never redirect a mount, a device node or a created file onto the host
 * (CVE-2019-19921, CVE-2023-27561, CVE-2024-45310 class).
 */
import { readlinkSync } from 'node:fs';
import { AT, fchmodat, fchownat, mknodat, symlinkat, unlinkat } from '../sys/fs.js';
import * as inRootSys from '../sys/in-root.js';
import { mount, mountFlagsOf, MS } from '../sys/mount.js';
import { fdTarget, InRoot, type InRootOptions, type InRootSys } from './in-root.js';
import type { MountStep } from './plan.js';
import type { LinkReader } from './secure-join.js';

export const hostLinkReader: LinkReader = {
  readlink(hostPath) {
    try {
      return readlinkSync(hostPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw err;
    }
  },
};

export const linuxInRootSys: InRootSys = {
  readlink: hostLinkReader.readlink,
  openDir: inRootSys.openDirPath,
  openat2InRoot: inRootSys.openat2InRoot,
  openNoFollow: inRootSys.openPathNoFollow,
  fdPath: inRootSys.fdPath,
  kind: inRootSys.fdKind,
  mkdirAt: inRootSys.mkdirAt,
  createFileAt: inRootSys.createFileAt,
  close: inRootSys.close,
};

/**
 * /proc, /sys and /dev are where the kernel's filesystems go: the image must have ordinary
 * directories there, never symlinks (as runc requires for proc and sysfs). Everything below
 * them is ours (fresh procfs, sysfs, tmpfs), so the same rule costs nothing there.
 */
/** Where the empty file that masks /proc files is made for a moment (the plan mounts /dev first). */
const MASK_SOURCE = '/dev/.tsbox-mask';

export function mustBeOrdinary(target: string): boolean {
  return ['/proc', '/sys', '/dev'].some((p) => target === p || target.startsWith(`${p}/`));
}

// One resolver per root, kept across the steps of a plan; closed by finishMounts().
let current: InRoot | null = null;

function resolverFor(root: string): InRoot {
  if (current?.root !== root) {
    current?.close();
    current = InRoot.open(root, linuxInRootSys);
  }
  return current;
}

/** Close the root's fd once the plan is applied: the command must not inherit a handle on it. */
export function finishMounts(): 'openat2' | 'userspace' | null {
  const used = current?.resolver ?? null;
  current?.close();
  current = null;
  return used;
}

/** Run `fn` with an fd of the target, then close the fd. */
function withFd<T>(fd: number, fn: (target: string) => T): T {
  try {
    return fn(fdTarget(fd));
  } finally {
    linuxInRootSys.close(fd);
  }
}

function isMissing(err: unknown): boolean {
  return (err as { code?: string }).code === 'ENOENT';
}

export function applyMountStep(root: string, step: MountStep): void {
  const r = resolverFor(root);
  const opts: InRootOptions = { noSymlinks: mustBeOrdinary(step.target) };
  switch (step.op) {
    case 'mount':
      withFd(r.ensure(step.target, step.create, opts), (t) => mount(step.source, t, step.fstype, step.flags, step.data ?? null));
      return;
    case 'bind': {
      withFd(r.ensure(step.target, step.create, opts), (t) => mount(step.source, t, null, MS.BIND | MS.REC));
      // A bind mount takes MS_RDONLY and MS_NODEV only on a remount of itself: reopen to
      // reach the new mount, and keep the flags it has (nosuid, noexec... of the source).
      const extra = (step.readOnly ? MS.RDONLY : 0) | (step.nodev ? MS.NODEV : 0);
      if (extra !== 0) withFd(r.open(step.target, opts), (t) => mount(null, t, null, MS.REMOUNT | MS.BIND | mountFlagsOf(t) | extra));
      return;
    }
    case 'mknod': {
      const { dirFd, name } = r.ensureParent(step.target, opts);
      try {
        mknodat(dirFd, name, step.mode, step.major, step.minor);
        fchmodat(dirFd, name, step.mode & 0o7777); // mknod's mode is filtered by the umask
        if (step.owner) fchownat(dirFd, name, step.owner.uid, step.owner.gid, AT.SYMLINK_NOFOLLOW);
      } finally {
        linuxInRootSys.close(dirFd);
      }
      return;
    }
    case 'symlink': {
      const { dirFd, name } = r.ensureParent(step.target, opts);
      try {
        symlinkat(step.linkTo, dirFd, name);
      } finally {
        linuxInRootSys.close(dirFd);
      }
      return;
    }
    case 'mask': {
      let fd: number;
      try {
        fd = r.open(step.target, opts);
      } catch (err) {
        if (isMissing(err)) return; // this kernel does not have it: nothing to hide
        throw err;
      }
      if (linuxInRootSys.kind(fd) === 'dir') {
        withFd(fd, (t) => mount('tmpfs', t, 'tmpfs', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, 'size=0,mode=555'));
        return;
      }
      // A file: an empty regular file over it, read-only, so that reads are empty and writes
      // fail (EROFS). (/dev/null, docker's choice, would swallow writes: a device node
      // stays writable on a read-only mount.) The file is made in our /dev tmpfs, bound,
      // then unlinked: the bind keeps it alive, nothing of it remains visible in /dev.
      const empty = r.ensure(MASK_SOURCE, 'file', { noSymlinks: true });
      try {
        withFd(fd, (t) => mount(fdTarget(empty), t, null, MS.BIND));
        withFd(r.open(step.target, opts), (t) => mount(null, t, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NOEXEC));
      } finally {
        linuxInRootSys.close(empty);
        const { dirFd, name } = r.ensureParent(MASK_SOURCE, { noSymlinks: true });
        try {
          unlinkat(dirFd, name);
        } finally {
          linuxInRootSys.close(dirFd);
        }
      }
      return;
    }
    case 'readonly': {
      let fd: number;
      try {
        fd = r.open(step.target, opts);
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      withFd(fd, (t) => mount(t, t, null, MS.BIND | MS.REC));
      withFd(r.open(step.target, opts), (t) => mount(null, t, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC));
      return;
    }
  }
}

export function describeMountStep(step: MountStep): string {
  switch (step.op) {
    case 'mount': return `mount ${step.fstype} on ${step.target}`;
    case 'bind': return `bind ${step.source} on ${step.target}${step.readOnly ? ' (ro)' : ''}`;
    case 'mknod': return `mknod ${step.target}`;
    case 'symlink': return `symlink ${step.target} -> ${step.linkTo}`;
    case 'mask': return `mask ${step.target}`;
    case 'readonly': return `make ${step.target} read-only`;
  }
}

