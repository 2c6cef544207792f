/**
 * The one in-root resolver (src/fs/in-root), against a fake filesystem reached only through
 * file descriptors: the userspace walk's rules (what openat2 RESOLVE_IN_ROOT does in the
 * kernel), the kernel path and the switch to the fallback on ENOSYS, symlink refusal, the
 * check that catches a path swapped during the walk, and creation of missing paths.
 */
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InRoot, type InRootKind, type InRootSys } from '../../src/fs/in-root/resolver.js';
import { walkInRoot } from '../../src/fs/in-root/walk.js';
import { mustBeOrdinary } from '../../src/mounts/apply.js';
import { procProblem } from '../../src/mounts/verify-proc.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

/**
 * A tree of host paths (kind) and symlinks (target). fds index `opened`. openat2 is modelled
 * only for plain paths (no symlink on the way); the walk is what these tests are about.
 */
function fakeSys(tree: Record<string, InRootKind>, links: Record<string, string>, opts: { openat2?: boolean; swap?: Record<string, string> } = {}) {
  const opened: string[] = [];
  const calls: string[] = [];
  const open = (p: string) => {
    opened.push(p);
    return opened.length - 1;
  };
  const kindOf = (p: string): InRootKind | undefined => (links[p] !== undefined ? 'symlink' : tree[p]);
  const sys: InRootSys = {
    openDir: (p) => open(p),
    reopenDir: (fd) => open(opened[fd]!),
    openat2InRoot: (_fd, path, _dir, noSymlinks) => {
      calls.push(`openat2 ${path}${noSymlinks ? ' nosymlinks' : ''}`);
      if (opts.openat2 === false) throw errno('ENOSYS');
      const host = posix.join('/r', path);
      if (noSymlinks && Object.keys(links).some((l) => host === l || host.startsWith(`${l}/`))) throw errno('ELOOP');
      if (!tree[host]) throw errno('ENOENT');
      return open(host);
    },
    openNoFollow: (dirFd, name, dir) => {
      calls.push(`open ${name}`);
      const p = posix.join(opened[dirFd]!, name);
      const kind = kindOf(p);
      if (kind === undefined) throw errno('ENOENT');
      if (dir && kind === 'symlink') throw errno('ELOOP');
      if (dir && kind !== 'dir') throw errno('ENOTDIR');
      return open(opts.swap?.[p] ?? p);
    },
    readlinkAt: (dirFd, name) => links[posix.join(opened[dirFd]!, name)] ?? null,
    fdPath: (fd) => opened[fd]!,
    kind: (fd) => kindOf(opened[fd]!) ?? 'other',
    mkdirAt: (fd, name) => {
      calls.push(`mkdir ${posix.join(opened[fd]!, name)}`);
      tree[posix.join(opened[fd]!, name)] = 'dir';
    },
    createFileAt: (fd, name) => {
      calls.push(`create ${posix.join(opened[fd]!, name)}`);
      tree[posix.join(opened[fd]!, name)] = 'file';
    },
    close: () => {},
    show: (p) => p,
  };
  return { sys, calls, opened };
}

/** Where the userspace walk lands for `path`, in a tree of directories /r/{a,b,...} plus links. */
function walkTo(path: string, links: Record<string, string>, dirs: string[] = [], dirOnly = false): string {
  const tree: Record<string, InRootKind> = { '/r': 'dir' };
  for (const d of dirs) tree[`/r/${d}`] = 'dir';
  const { sys, opened } = fakeSys(tree, links);
  const { fd } = walkInRoot({ ...sys, openRoot: () => sys.openDir('/r') }, path.split('/'), { dirOnly });
  return opened[fd]!;
}

describe('the userspace walk resolves like RESOLVE_IN_ROOT', () => {
  it('walks plain paths', () => {
    expect(walkTo('/etc/hosts', {}, ['etc', 'etc/hosts'])).toBe('/r/etc/hosts');
    expect(walkTo('etc//./hosts', {}, ['etc', 'etc/hosts'])).toBe('/r/etc/hosts');
  });

  it('clamps .. at the root', () => {
    expect(walkTo('/../../etc/passwd', {}, ['etc', 'etc/passwd'])).toBe('/r/etc/passwd');
    expect(walkTo('/a/../../../b', {}, ['a', 'b'])).toBe('/r/b');
  });

  it('restarts absolute symlinks at the root (CVE-2019-19921 class)', () => {
    expect(walkTo('/proc', { '/r/proc': '/etc' }, ['etc'])).toBe('/r/etc');
    expect(walkTo('/dev/pts', { '/r/dev': '/tmp/../../host' }, ['tmp', 'host', 'host/pts'])).toBe('/r/host/pts');
  });

  it('keeps relative symlinks with .. inside the root', () => {
    expect(walkTo('/etc/hosts', { '/r/etc': '../../../../data' }, ['data', 'data/hosts'])).toBe('/r/data/hosts');
    expect(walkTo('/a/b', { '/r/a': 'x/y', '/r/x/y/b': '../z' }, ['x', 'x/y', 'x/z'])).toBe('/r/x/z');
    expect(walkTo('/a/b', { '/r/a': 'x/y', '/r/x/y/b': '../../../../z' }, ['x', 'x/y', 'z'])).toBe('/r/z');
  });

  it('follows a chain of links, the last component included', () => {
    expect(walkTo('/bin/sh', { '/r/bin': 'usr/bin', '/r/usr/bin/sh': '/bin/busybox' }, ['usr', 'usr/bin', 'usr/bin/busybox'])).toBe('/r/usr/bin/busybox');
  });

  it('never asks the kernel for "..": it walks again from the root', () => {
    const { sys, calls } = fakeSys({ '/r': 'dir', '/r/a': 'dir', '/r/a/b': 'dir', '/r/c': 'dir' }, { '/r/a/b/l': '../../c' });
    walkInRoot({ ...sys, openRoot: () => sys.openDir('/r') }, ['a', 'b', 'l'], {});
    expect(calls.filter((c) => c.includes('..'))).toEqual([]);
  });

  it('fails on symlink loops instead of spinning', () => {
    expect(() => walkTo('/a', { '/r/a': '/b', '/r/b': '/a' })).toThrow(/ELOOP/);
    expect(() => walkTo('/etc/x', { '/r/etc': '../../etc' })).toThrow(/ELOOP/);
  });

  it('refuses every symlink when asked (hard link targets, /proc)', () => {
    const { sys } = fakeSys({ '/r': 'dir', '/r/etc': 'dir' }, { '/r/l': 'etc' });
    expect(() => walkInRoot({ ...sys, openRoot: () => sys.openDir('/r') }, ['l'], { noSymlinks: true })).toThrow(/ELOOP/);
  });

  it('a directory walk through a regular file is ENOTDIR', () => {
    const { sys } = fakeSys({ '/r': 'dir', '/r/f': 'file' }, {});
    expect(() => walkInRoot({ ...sys, openRoot: () => sys.openDir('/r') }, ['f'], { dirOnly: true })).toThrow(/ENOTDIR/);
    expect(() => walkInRoot({ ...sys, openRoot: () => sys.openDir('/r') }, ['f', 'x'], {})).toThrow(/ENOTDIR/);
  });
});

describe('InRoot', () => {
  it('calls openat2 again on EAGAIN (a rename raced its ".." check), and gives up after a few tries', () => {
    const { sys } = fakeSys({ '/r': 'dir', '/r/vol': 'dir' }, {});
    let failures = 3;
    const inner = sys.openat2InRoot;
    sys.openat2InRoot = (fd, path, dir, ns) => {
      if (failures-- > 0) throw errno('EAGAIN');
      return inner(fd, path, dir, ns);
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

  it('falls back to the walk on ENOSYS, resolving symlinks inside the root', () => {
    const { sys, opened } = fakeSys({ '/r': 'dir', '/r/data': 'dir' }, { '/r/link': '/../../data' }, { openat2: false });
    const r = InRoot.open('/r', sys);
    expect(opened[r.open('/link')]).toBe('/r/data');
    expect(opened[r.openDir(['link'])]).toBe('/r/data');
    expect(r.resolver).toBe('userspace');
  });

  it('refuses a symlink where an ordinary directory is required, with either resolver', () => {
    for (const openat2 of [true, false]) {
      const { sys } = fakeSys({ '/r': 'dir', '/r/etc': 'dir' }, { '/r/proc': '/etc' }, { openat2 });
      expect(() => InRoot.open('/r', sys).open('/proc', { noSymlinks: true })).toThrow(/symlink/);
    }
  });

  it('detects a directory swapped during the walk (fallback, root path known)', () => {
    const tree: Record<string, InRootKind> = { '/r': 'dir', '/r/vol': 'dir', '/host': 'dir', '/host/x': 'dir' };
    const { sys } = fakeSys(tree, {}, { openat2: false, swap: { '/r/vol': '/host' } });
    expect(() => InRoot.open('/r', sys).open('/vol/x')).toThrow(/changed while it was being resolved \(now \/host\/x\)/);
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
