/**
 * Executes a mount plan inside the container's new root. Runs in the init, in the
 * container's mount namespace, before pivot_root. Every target is resolved inside
 * the root (secureJoin), so a symlink in the image can never redirect a mount or a
 * created file onto the host.
 */
import { chmodSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { TsboxError } from '../errors.js';
import { mknod } from '../sys/devices.js';
import { mount, MS } from '../sys/mount.js';
import type { MountStep } from './plan.js';
import { secureJoin, type LinkReader } from './secure-join.js';

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

/** Resolve a container path to a host path inside `root`. */
export function inRoot(root: string, containerPath: string): string {
  return secureJoin(root, containerPath, hostLinkReader);
}

/** Create what a mount needs to sit on: a directory, or an empty file for file binds. */
export function createMountPoint(root: string, hostPath: string, kind: 'dir' | 'file'): void {
  const parent = posix.dirname(hostPath);
  if (!parent.startsWith(root)) throw new TsboxError(`mount point ${hostPath} escapes the container root`);
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  let existing: 'dir' | 'file' | 'missing';
  try {
    existing = lstatSync(hostPath).isDirectory() ? 'dir' : 'file';
  } catch {
    existing = 'missing';
  }
  if (existing === 'missing') {
    if (kind === 'dir') mkdirSync(hostPath, { mode: 0o755 });
    else writeFileSync(hostPath, '', { mode: 0o644, flag: 'wx' });
  } else if (existing !== kind) {
    throw new TsboxError(`cannot mount a ${kind === 'dir' ? 'directory' : 'file'} on ${hostPath}: the image has a ${existing === 'dir' ? 'directory' : 'file'} there`, {
      hint: 'Choose a target path that matches the source type.',
    });
  }
}

export function applyMountStep(root: string, step: MountStep): void {
  const target = inRoot(root, step.target);
  switch (step.op) {
    case 'mount':
      createMountPoint(root, target, step.create);
      mount(step.source, target, step.fstype, step.flags, step.data ?? null);
      return;
    case 'bind':
      createMountPoint(root, target, step.create);
      mount(step.source, target, null, MS.BIND | MS.REC);
      if (step.readOnly) {
        // A bind mount takes MS_RDONLY only on a remount of itself.
        mount(null, target, null, MS.REMOUNT | MS.BIND | MS.RDONLY);
      }
      return;
    case 'mknod':
      mknod(target, step.mode, step.major, step.minor);
      chmodSync(target, step.mode & 0o7777); // mknod's mode is filtered by the umask
      return;
    case 'symlink':
      symlinkSync(step.linkTo, target);
      return;
    case 'mask': {
      const kind = existingKind(target);
      if (kind === 'missing') return;
      if (kind === 'dir') mount('tmpfs', target, 'tmpfs', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, 'size=0,mode=555');
      else mount('/dev/null', target, null, MS.BIND);
      return;
    }
    case 'readonly':
      if (existingKind(target) === 'missing') return;
      mount(target, target, null, MS.BIND | MS.REC);
      mount(null, target, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
      return;
  }
}

function existingKind(path: string): 'dir' | 'file' | 'missing' {
  try {
    return lstatSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
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
