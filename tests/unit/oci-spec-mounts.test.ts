/**
 * Mount options as the kernel takes them, and config.json's mounts as plan steps: flags,
 * data, propagation, recursive attributes, binds, cgroup views; destinations in-root.
 */
import { describe, expect, it } from 'vitest';
import { MS } from '../../src/sys/mount-flags.js';
import { MOUNT_ATTR_BITS, MS_MORE, OciSpecError, failIn, inRootPath, parseMountOptions, planOciMounts, planPathList, rootfsPropagationFlags } from '../../src/oci/spec/index.js';
import type { OciMount } from '../../src/oci/spec/index.js';

const refuse = (option: string, why: string) => new Error(`${option}: ${why}`);
const fail = failIn('config.json');

describe('parseMountOptions', () => {
  it('flags set and cleared, in order (the last word wins)', () => {
    expect(parseMountOptions(['nosuid', 'nodev', 'noexec', 'ro'], refuse)).toMatchObject({ flags: MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, data: '', bind: false });
    expect(parseMountOptions(['ro', 'rw'], refuse)).toMatchObject({ flags: 0, cleared: MS.RDONLY });
    expect(parseMountOptions(['rw', 'ro'], refuse)).toMatchObject({ flags: MS.RDONLY, cleared: 0 });
    expect(parseMountOptions(['nosuid', 'suid', 'dev', 'exec'], refuse)).toMatchObject({ flags: 0, cleared: MS.NOSUID | MS.NODEV | MS.NOEXEC });
    expect(parseMountOptions(['relatime', 'strictatime', 'noatime', 'nodiratime', 'sync', 'dirsync', 'nosymfollow'], refuse).flags).toBe(
      MS.RELATIME | MS.STRICTATIME | MS.NOATIME | MS_MORE.NODIRATIME | MS_MORE.SYNCHRONOUS | MS_MORE.DIRSYNC | MS_MORE.NOSYMFOLLOW,
    );
    expect(parseMountOptions(['defaults'], refuse).flags).toBe(0);
  });

  it('anything else is the filesystem\'s data, in order', () => {
    expect(parseMountOptions(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'], refuse)).toMatchObject({
      flags: MS.NOSUID | MS.NOEXEC,
      data: 'newinstance,ptmxmode=0666,mode=0620,gid=5',
    });
    expect(parseMountOptions(['size=64m', 'mode=1777', ' ', ''], refuse).data).toBe('size=64m,mode=1777');
  });

  it('bind and rbind', () => {
    expect(parseMountOptions(['bind'], refuse)).toMatchObject({ bind: true, recursiveBind: false, flags: MS.BIND });
    expect(parseMountOptions(['rbind', 'ro'], refuse)).toMatchObject({ bind: true, recursiveBind: true, flags: MS.BIND | MS.REC | MS.RDONLY });
  });

  it('propagation, in order', () => {
    expect(parseMountOptions(['rprivate'], refuse).propagation).toEqual([MS.PRIVATE | MS.REC]);
    expect(parseMountOptions(['shared', 'rslave', 'unbindable', 'runbindable', 'private', 'rshared', 'slave'], refuse).propagation).toEqual([
      MS.SHARED, MS.SLAVE | MS.REC, MS_MORE.UNBINDABLE, MS_MORE.UNBINDABLE | MS.REC, MS.PRIVATE, MS.SHARED | MS.REC, MS.SLAVE,
    ]);
  });

  it('recursive attributes (rro, rnosuid...) for mount_setattr', () => {
    expect(parseMountOptions(['rro', 'rnosuid', 'rnodev', 'rnoexec'], refuse).recursive).toEqual({
      set: MOUNT_ATTR_BITS.RDONLY | MOUNT_ATTR_BITS.NOSUID | MOUNT_ATTR_BITS.NODEV | MOUNT_ATTR_BITS.NOEXEC,
      clear: 0,
    });
    expect(parseMountOptions(['rro', 'rrw'], refuse).recursive).toEqual({ set: 0, clear: MOUNT_ATTR_BITS.RDONLY });
    expect(parseMountOptions(['rnoatime'], refuse).recursive).toEqual({ set: MOUNT_ATTR_BITS.NOATIME, clear: MOUNT_ATTR_BITS._ATIME });
    expect(parseMountOptions(['ro'], refuse).recursive).toBeNull();
  });

  it('tmpcopyup is noted; idmap is refused (no user namespaces)', () => {
    expect(parseMountOptions(['tmpcopyup'], refuse)).toMatchObject({ copyUp: true, data: '' });
    expect(() => parseMountOptions(['idmap'], refuse)).toThrow(/^idmap: id-mapped mounts need user namespaces/);
  });

  it('rootfsPropagation: runc\'s default is rslave', () => {
    const f = (what: string) => new Error(what);
    expect(rootfsPropagationFlags(undefined, f)).toBe(MS.SLAVE | MS.REC);
    expect(rootfsPropagationFlags('rprivate', f)).toBe(MS.PRIVATE | MS.REC);
    expect(rootfsPropagationFlags('shared', f)).toBe(MS.SHARED);
    expect(() => rootfsPropagationFlags('sideways', f)).toThrow(/'sideways' is not one of/);
  });
});

describe('inRootPath: container paths relative to the root, never above it', () => {
  it.each([
    ['/dev/pts', 'dev/pts'],
    ['dev/pts', 'dev/pts'],
    ['//dev//pts/', 'dev/pts'],
    ['/a/./b/../c', 'a/c'],
    ['/../../etc/passwd', 'etc/passwd'],
    ['../x', 'x'],
    ['/', ''],
  ])('%s -> %s', (given, expected) => expect(inRootPath(given)).toBe(expected));
});

describe('planOciMounts', () => {
  const probe = { kind: (p: string) => (p === '/missing' ? 'missing' as const : p.endsWith('.conf') ? 'file' as const : 'dir' as const) };
  const mounts = (list: OciMount[]) => planOciMounts(list, { bundle: '/b', probe, fail });
  const errorOf = (fn: () => unknown) => {
    try { fn(); } catch (err) { expect(err).toBeInstanceOf(OciSpecError); return (err as Error).message; }
    throw new Error('expected an error');
  };

  it('a relative destination is read from / (runc\'s compatibility rule); ".." cannot climb out', () => {
    expect(mounts([{ destination: 'tmp', type: 'tmpfs', source: 'tmpfs' }])[0]!.target).toBe('tmp');
    expect(mounts([{ destination: '/../../../host', type: 'tmpfs' }])[0]).toMatchObject({ target: 'host', source: 'tmpfs' });
  });

  it('binds: relative sources are the bundle\'s; the mount point follows the source\'s kind', () => {
    const [a, b] = mounts([
      { destination: '/etc/resolv.conf', type: 'bind', source: '/run/x/resolv.conf', options: ['rbind', 'ro', 'nosuid'] },
      { destination: '/data', source: 'data', options: ['bind'] },
    ]);
    expect(a).toEqual({ op: 'bind', source: '/run/x/resolv.conf', target: 'etc/resolv.conf', recursive: true, flags: MS.RDONLY | MS.NOSUID, create: 'file', propagation: [], recursiveAttr: null, where: 'mounts[0]' });
    expect(b).toMatchObject({ op: 'bind', source: '/b/data', recursive: false, create: 'dir' });
  });

  it('every kernel filesystem type as given; cgroup and cgroup2 as cgroup steps', () => {
    const steps = mounts([
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
      { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2' },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] },
      { destination: '/mnt', type: 'overlay', source: 'overlay', options: ['lowerdir=/a,upperdir=/b'] },
    ]);
    expect(steps.map((s) => (s.op === 'mount' ? s.fstype : s.op))).toEqual(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup', 'overlay']);
    expect(steps[4]).toMatchObject({ op: 'cgroup', requested: 'cgroup', flags: MS.RDONLY });
  });

  it('refused, one line each', () => {
    expect(errorOf(() => mounts([{ destination: '/', type: 'tmpfs' }]))).toBe("config.json: mounts[0].destination: '/' is the container's root itself; mount under it");
    expect(errorOf(() => mounts([{ destination: '/x', source: '/missing', options: ['rbind'] }]))).toBe('config.json: mounts[0].source: /missing does not exist');
    expect(errorOf(() => mounts([{ destination: '/x', type: 'bind' }]))).toBe('config.json: mounts[0].source: a bind mount needs a source');
    expect(errorOf(() => mounts([{ destination: '/x', source: 'tmpfs' }]))).toBe('config.json: mounts[0].type: is required unless the options say bind or rbind');
    expect(errorOf(() => mounts([{ destination: '/x', type: 'tmpfs', options: ['idmap'] }]))).toBe("config.json: mounts[0].options: 'idmap': id-mapped mounts need user namespaces, which tsbox does not support yet");
    expect(errorOf(() => mounts([{ destination: '/x', type: 'proc', options: ['tmpcopyup'] }]))).toBe("config.json: mounts[0].options: 'tmpcopyup' is for tmpfs mounts only");
    expect(errorOf(() => mounts([{ destination: '/x', type: 'bind', source: '/d', uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }]))).toMatch(/^config\.json: mounts\[0\]\.uidMappings: id-mapped mounts/);
  });

  it('masked and read-only paths: absolute, in-root, once each', () => {
    expect(planPathList(['/proc/kcore', '/proc/kcore', '/sys/firmware'], 'linux.maskedPaths', fail)).toEqual(['proc/kcore', 'sys/firmware']);
    expect(() => planPathList(['proc/kcore'], 'linux.maskedPaths', fail)).toThrow("config.json: linux.maskedPaths[0]: 'proc/kcore' is not an absolute path");
  });
});
