/**
 * The in-root opener's decisions, against a fake filesystem: the kernel path, the switch to
 * the userspace fallback on ENOSYS, symlink refusal for /proc, /sys and /dev, and the check
 * that catches a path swapped between resolution and open.
 */
import { describe, expect, it } from 'vitest';
import { InRoot, type InRootKind, type InRootSys } from '../../src/mounts/in-root.js';
import { mustBeOrdinary } from '../../src/mounts/apply.js';
import { procProblem } from '../../src/mounts/verify-proc.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

/** A tree of host paths: kind, and symlink targets. fds are indexes into `opened`. */
function fakeSys(tree: Record<string, InRootKind>, links: Record<string, string>, opts: { openat2?: boolean; swap?: Record<string, string> } = {}) {
  const opened: string[] = [];
  const calls: string[] = [];
  const open = (p: string) => {
    opened.push(p);
    return opened.length - 1;
  };
  const sys: InRootSys = {
    readlink: (p) => links[p] ?? null,
    openDir: (p) => open(p),
    openat2InRoot: (_fd, path, noSymlinks) => {
      calls.push(`openat2 ${path}${noSymlinks ? ' nosymlinks' : ''}`);
      if (opts.openat2 === false) throw errno('ENOSYS');
      const host = `/r${path === '/' ? '' : path}`;
      if (noSymlinks && Object.keys(links).some((l) => host === l || host.startsWith(`${l}/`))) throw errno('ELOOP');
      if (!tree[host]) throw errno('ENOENT');
      return open(host);
    },
    openNoFollow: (p) => {
      calls.push(`open ${p}`);
      if (!tree[p] && !links[p]) throw errno('ENOENT');
      return open(opts.swap?.[p] ?? p);
    },
    fdPath: (fd) => opened[fd]!,
    kind: (fd) => tree[opened[fd]!] ?? (links[opened[fd]!] ? 'symlink' : 'other'),
    mkdirAt: (fd, name) => {
      calls.push(`mkdir ${opened[fd]}/${name}`);
      tree[`${opened[fd]}/${name}`.replace('//', '/')] = 'dir';
    },
    createFileAt: (fd, name) => {
      calls.push(`create ${opened[fd]}/${name}`);
      tree[`${opened[fd]}/${name}`] = 'file';
    },
    close: () => {},
  };
  return { sys, calls, opened };
}

describe('InRoot', () => {
  it('calls openat2 again on EAGAIN (a rename raced its ".." check), and gives up after a few tries', () => {
    const { sys } = fakeSys({ '/r': 'dir', '/r/vol': 'dir' }, {});
    let failures = 3;
    const inner = sys.openat2InRoot;
    sys.openat2InRoot = (fd, path, ns) => {
      if (failures-- > 0) throw errno('EAGAIN');
      return inner(fd, path, ns);
    };
    const r = InRoot.open('/r', sys);
    expect(r.open('/vol')).toBeGreaterThan(0);
    failures = Infinity;
    expect(() => r.open('/vol')).toThrow(/EAGAIN/);
    expect(r.resolver).toBe('openat2'); // EAGAIN is no reason to leave the kernel's resolver
  });

  it('opens through openat2 and creates missing parents relative to their parent fd', () => {
    const { sys, calls } = fakeSys({ '/r': 'dir', '/r/etc': 'dir' }, {});
    const r = InRoot.open('/r', sys);
    r.ensure('/etc/a/b', 'file');
    expect(calls.filter((c) => !c.startsWith('openat2'))).toEqual(['mkdir /r/etc/a', 'create /r/etc/a/b']);
    expect(r.resolver).toBe('openat2');
  });

  it('falls back to userspace on ENOSYS, resolving symlinks inside the root', () => {
    const { sys, opened } = fakeSys({ '/r': 'dir', '/r/data': 'dir' }, { '/r/link': '/../../data' }, { openat2: false });
    const r = InRoot.open('/r', sys);
    const fd = r.open('/link');
    expect(opened[fd]).toBe('/r/data');
    expect(r.resolver).toBe('userspace');
  });

  it('refuses a symlink where an ordinary directory is required, with either resolver', () => {
    for (const openat2 of [true, false]) {
      const { sys } = fakeSys({ '/r': 'dir', '/r/etc': 'dir' }, { '/r/proc': '/etc' }, { openat2 });
      expect(() => InRoot.open('/r', sys).open('/proc', { noSymlinks: true })).toThrow(/symlink/);
    }
  });

  it('detects a path swapped between resolution and open (fallback)', () => {
    const { sys } = fakeSys({ '/r': 'dir', '/r/vol': 'dir', '/host': 'dir' }, {}, { openat2: false, swap: { '/r/vol': '/host' } });
    expect(() => InRoot.open('/r', sys).open('/vol')).toThrow(/changed while it was being resolved/);
  });

  it('refuses to create through a dangling symlink', () => {
    const { sys } = fakeSys({ '/r': 'dir' }, { '/r/etc': '/nowhere' }, { openat2: false });
    sys.mkdirAt = () => {
      throw errno('EEXIST');
    };
    expect(() => InRoot.open('/r', sys).ensure('/etc/hostname', 'file')).toThrow(/dangling symlink/);
  });

  it('refuses a target of the wrong type', () => {
    const { sys } = fakeSys({ '/r': 'dir', '/r/etc': 'dir', '/r/etc/hosts': 'dir' }, {});
    expect(() => InRoot.open('/r', sys).ensure('/etc/hosts', 'file')).toThrow(/is a directory in the container, not a file/);
  });
});

describe('mount rules', () => {
  it('/proc, /sys and /dev (and below) must be ordinary directories', () => {
    expect(['/proc', '/sys/fs/cgroup', '/dev/pts'].every(mustBeOrdinary)).toBe(true);
    expect(['/etc/hosts', '/data', '/devices', '/process'].some(mustBeOrdinary)).toBe(false);
  });

  it('/proc must be the root of a procfs', () => {
    expect(procProblem({ fsType: 0x9fa0, ino: 1 })).toBeNull();
    expect(procProblem({ fsType: 0x01021994, ino: 1 })).toMatch(/not procfs/);
    expect(procProblem({ fsType: 0x9fa0, ino: 4026531841 })).toMatch(/inside procfs/);
  });
});
