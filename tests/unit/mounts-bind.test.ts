/**
 * mounts/bind.ts: a bind gets its flags before it is attached, onto the target fd, and the
 * target is never resolved again; on kernels without the new mount API (ENOSYS from
 * open_tree or mount_setattr) the bind is staged on a private point and moved onto the fd.
 */
import { describe, expect, it } from 'vitest';
import { bindMountFlags, bindOnto, type BindStaging, type BindSys } from '../../src/mounts/bind.js';
import { MOUNT_ATTR, mountAttrFromFlags, MS } from '../../src/sys/mount-flags.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

function recorder(fail: { openTree?: string; setattr?: string } = {}) {
  const calls: string[] = [];
  let next = 100;
  const sys: BindSys = {
    openTreeClone: (dirFd, path) => {
      calls.push(`open_tree ${path === '' ? `fd ${dirFd}` : path}`);
      if (fail.openTree) throw errno(fail.openTree);
      return next++;
    },
    mountSetattrTree: (fd, attr) => {
      calls.push(`mount_setattr ${fd} 0x${attr.toString(16)}`);
      if (fail.setattr) throw errno(fail.setattr);
    },
    moveMountFd: (from, to) => void calls.push(`move_mount ${from} -> ${to}`),
    mount: (source, target, _type, flags) => void calls.push(`mount ${source ?? 'none'} ${target} 0x${flags.toString(16)}`),
    close: (fd) => void calls.push(`close ${fd}`),
  };
  const staging = (): BindStaging => ({
    create: () => (calls.push('stage create'), 50),
    reopen: () => (calls.push('stage reopen'), 51),
    remove: () => void calls.push('stage remove'),
  });
  return { sys, calls, staging };
}

describe('bind flags', () => {
  it('read-only plus the plan\'s per-mount flags, and nothing else', () => {
    expect(bindMountFlags(true)).toBe(MS.RDONLY);
    expect(bindMountFlags(false)).toBe(0);
    expect(bindMountFlags(false, MS.NODEV | MS.NOSUID)).toBe(MS.NODEV | MS.NOSUID);
    expect(bindMountFlags(true, MS.NODEV | MS.REC | MS.BIND)).toBe(MS.RDONLY | MS.NODEV);
  });

  it('map MS_* to MOUNT_ATTR_*', () => {
    expect(mountAttrFromFlags(MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC)).toBe(MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC);
    expect(mountAttrFromFlags(MS.BIND | MS.REC)).toBe(0);
  });
});

describe('bindOnto', () => {
  it('new mount API: clone the source, set the flags on the detached tree, attach it on the target fd', () => {
    const { sys, calls, staging } = recorder();
    expect(bindOnto(sys, { path: '/host/ro' }, 7, MS.RDONLY | MS.NODEV, staging)).toBe('mount-api');
    expect(calls).toEqual(['open_tree /host/ro', 'mount_setattr 100 0x5', 'move_mount 100 -> 7', 'close 100']);
  });

  it('a writable bind with no flags is attached as cloned', () => {
    const { sys, calls, staging } = recorder();
    bindOnto(sys, { fd: 9 }, 7, 0, staging);
    expect(calls).toEqual(['open_tree fd 9', 'move_mount 100 -> 7', 'close 100']);
  });

  it('without open_tree: bind on the private staging point, remount it there, move it onto the target fd', () => {
    const { sys, calls, staging } = recorder({ openTree: 'ENOSYS' });
    expect(bindOnto(sys, { path: '/host/ro' }, 7, MS.RDONLY, staging)).toBe('staged');
    expect(calls).toEqual([
      'open_tree /host/ro',
      'stage create',
      `mount /host/ro /proc/self/fd/50 0x${(MS.BIND | MS.REC).toString(16)}`,
      'close 50',
      'stage reopen',
      `mount none /proc/self/fd/51 0x${(MS.REMOUNT | MS.BIND | MS.RDONLY).toString(16)}`,
      `mount /proc/self/fd/51 /proc/self/fd/7 0x${MS.MOVE.toString(16)}`,
      'close 51',
      'stage remove',
    ]);
    // The target is reached only through its fd: never a path, never opened again.
    expect(calls.filter((c) => c.includes('/vol'))).toEqual([]);
  });

  it('open_tree without mount_setattr (Linux 5.2-5.11): the clone is dropped unattached, then staged', () => {
    const { sys, calls, staging } = recorder({ setattr: 'ENOSYS' });
    expect(bindOnto(sys, { fd: 9 }, 7, MS.RDONLY, staging)).toBe('staged');
    expect(calls.slice(0, 4)).toEqual(['open_tree fd 9', 'mount_setattr 100 0x1', 'close 100', 'stage create']);
    expect(calls).not.toContain('move_mount 100 -> 7');
    expect(calls[4]).toBe(`mount /proc/self/fd/9 /proc/self/fd/50 0x${(MS.BIND | MS.REC).toString(16)}`);
  });

  it('any other error is the step\'s error, and the clone is closed', () => {
    const { sys, calls, staging } = recorder({ setattr: 'EPERM' });
    expect(() => bindOnto(sys, { path: '/h' }, 7, MS.RDONLY, staging)).toThrow('EPERM');
    expect(calls).toEqual(['open_tree /h', 'mount_setattr 100 0x1', 'close 100']);
  });
});
