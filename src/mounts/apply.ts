/**
 * Executes a mount plan inside the container's new root. Runs in the init, in the
 * container's mount namespace, before pivot_root.
 *
 * Every target is opened inside the root as an fd (fs/in-root: openat2
 * RESOLVE_IN_ROOT, or the userspace resolver where openat2 is missing) and mount(2) is
 * given /proc/self/fd/N: a symlink in the image, or one swapped into a shared volume while
 * we work, can never redirect a mount, a device node or a created file onto the host
 * (CVE-2019-19921, CVE-2023-27561, CVE-2024-45310 class). Each target is resolved once: binds
 * get their read-only and other flags before they are attached (mounts/bind.ts), so no step
 * resolves a path a second time to reach the mount it just made (issue #10.5).
 */
import { AT, close, fchmodat, fchownat, mknodat, symlinkat, unlinkat } from '../sys/fs.js';
import { inRootSys as linuxInRootSys } from '../sys/in-root.js';
import { mount, mountSetattrTree, moveMountFd, MS, openTreeClone } from '../sys/mount.js';
import { bindMountFlags, bindOnto, type BindStaging, type BindSys } from './bind.js';
import { fdTarget, InRoot, type InRootOptions } from '../fs/in-root/resolver.js';
import type { MountStep } from './plan.js';

export const linuxBindSys: BindSys = {
  openTreeClone,
  mountSetattrTree,
  moveMountFd,
  mount,
  close,
};

/** The init's readers (workdir, exec) resolve with the same sys as the mounts. */
export { linuxInRootSys };

/**
 * /proc, /sys and /dev are where the kernel's filesystems go: the image must have ordinary
 * directories there, never symlinks (as runc requires for proc and sysfs). Everything below
 * them is ours (fresh procfs, sysfs, tmpfs), so the same rule costs nothing there.
 */
/** Where the empty file that masks /proc files is made for a moment (the plan mounts /dev first). */
const MASK_SOURCE = '/dev/.tsbox-mask';
/** Where binds are staged on kernels without mount_setattr (mounts/bind.ts), in the same /dev tmpfs. */
const BIND_STAGING = '/dev/.tsbox-bind';

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

/** The staging point of mounts/bind.ts's fallback: made, reopened and removed inside our /dev. */
function stagingIn(r: InRoot, kind: 'dir' | 'file'): BindStaging {
  const opts = { noSymlinks: true };
  return {
    create: () => r.ensure(BIND_STAGING, kind, opts),
    reopen: () => r.open(BIND_STAGING, opts),
    remove: () => {
      const { dirFd, name } = r.ensureParent(BIND_STAGING, opts);
      try {
        unlinkat(dirFd, name, kind === 'dir' ? AT.REMOVEDIR : 0);
      } finally {
        linuxInRootSys.close(dirFd);
      }
    },
  };
}

/** Bind `source` onto the target fd (closed after) with its flags set before it is attached. */
function bindOntoFd(r: InRoot, source: { path: string } | { fd: number }, targetFd: number, flags: number, sys: BindSys): void {
  try {
    const kind = linuxInRootSys.kind(targetFd) === 'dir' ? 'dir' : 'file';
    bindOnto(sys, source, targetFd, flags, () => stagingIn(r, kind));
  } finally {
    linuxInRootSys.close(targetFd);
  }
}

function isMissing(err: unknown): boolean {
  return (err as { code?: string }).code === 'ENOENT';
}

/** `bindSys`: the calls binds are made with; a test passes one without the new mount API to run the fallback. */
export function applyMountStep(root: string, step: MountStep, bindSys: BindSys = linuxBindSys): void {
  const r = resolverFor(root);
  const opts: InRootOptions = { noSymlinks: mustBeOrdinary(step.target) };
  switch (step.op) {
    case 'mount':
      withFd(r.ensure(step.target, step.create, opts), (t) => mount(step.source, t, step.fstype, step.flags, step.data ?? null));
      return;
    case 'bind':
      bindOntoFd(r, { path: step.source }, r.ensure(step.target, step.create, opts), bindMountFlags(step.readOnly, step.flags), bindSys);
      return;
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
        bindOntoFd(r, { fd: empty }, fd, MS.RDONLY | MS.NOSUID | MS.NOEXEC, bindSys);
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
      // A read-only bind of the path on itself, through the one fd.
      bindOntoFd(r, { fd }, fd, MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, bindSys);
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

