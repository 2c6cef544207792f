/**
 * The tree remover's walk, against an in-memory file system: any depth with a bounded
 * number of open directories, entries missed while a directory changes under the reader,
 * names as raw bytes, and never across a mount point. The real syscalls are exercised by
 * tests/integration/run-teardown.test.ts and the image tests.
 */
import { describe, expect, it } from 'vitest';
import { AT_REMOVEDIR, MAX_DEPTH, MountPointError, parseDirent, TreeRemover, type RemoveSys } from '../../src/image/remove-tree.js';
import { SysError } from '../../src/sys/sys-error.js';

interface Dir {
  kind: 'dir';
  dev: number;
  children: Map<string, Node>;
}
type Node = Dir | { kind: 'file' };

const ERR = { ENOENT: 2, ENOTDIR: 20, EISDIR: 21, EEXIST: 17, ENOTEMPTY: 39 };

/** Names arrive as NUL-terminated Buffers or strings: keys are their bytes in hex. */
function key(name: Buffer | string): string {
  const b = typeof name === 'string' ? Buffer.from(name) : name.subarray(0, name.indexOf(0) === -1 ? name.length : name.indexOf(0));
  return b.toString('hex');
}

class FakeFs implements RemoveSys {
  readonly root: Dir = { kind: 'dir', dev: 1, children: new Map() };
  private readonly fds = new Map<number, { dir: Dir; pos: number }>();
  private nextFd = 3;
  maxOpen = 0;

  dir(dev = 1): Dir {
    return { kind: 'dir', dev, children: new Map() };
  }

  get open(): number {
    return this.fds.size;
  }

  /** A directory fd on `dir` (for the caller's parent). */
  fdOf(dir: Dir): number {
    const fd = this.nextFd++;
    this.fds.set(fd, { dir, pos: 0 });
    return fd;
  }

  private at(fd: number): Dir {
    const f = this.fds.get(fd);
    if (!f) throw new Error(`bad fd ${fd}`);
    return f.dir;
  }

  openDir(dirfd: number, name: Buffer | string): number {
    const node = this.at(dirfd).children.get(key(name));
    if (!node) throw new SysError('openat', ERR.ENOENT, '');
    if (node.kind !== 'dir') throw new SysError('openat', ERR.ENOTDIR, '');
    const fd = this.fdOf(node);
    this.maxOpen = Math.max(this.maxOpen, this.fds.size);
    return fd;
  }

  /** Like a real directory: a position among the current entries, so removals shift what is left. */
  getdents(fd: number, buf: Buffer): number {
    const f = this.fds.get(fd)!;
    const names = [...f.dir.children.keys()];
    let off = 0;
    while (f.pos < names.length) {
      const nameBytes = Buffer.from(names[f.pos]!, 'hex');
      const reclen = (19 + nameBytes.length + 1 + 7) & ~7;
      if (off + reclen > buf.length) break;
      buf.fill(0, off, off + reclen);
      buf.writeUInt16LE(reclen, off + 16);
      buf[off + 18] = f.dir.children.get(names[f.pos]!)!.kind === 'dir' ? 4 : 8;
      nameBytes.copy(buf, off + 19);
      off += reclen;
      f.pos++;
    }
    return off;
  }

  rewind(fd: number): void {
    this.fds.get(fd)!.pos = 0;
  }

  unlinkat(dirfd: number, name: Buffer | string, flags: number): void {
    const dir = this.at(dirfd);
    const node = dir.children.get(key(name));
    if (!node) throw new SysError('unlinkat', ERR.ENOENT, '');
    if (flags & AT_REMOVEDIR) {
      if (node.kind !== 'dir') throw new SysError('unlinkat', ERR.ENOTDIR, '');
      if (node.children.size > 0) throw new SysError('unlinkat', ERR.ENOTEMPTY, '');
    } else if (node.kind === 'dir') {
      throw new SysError('unlinkat', ERR.EISDIR, '');
    }
    dir.children.delete(key(name));
  }

  renameNoReplace(olddirfd: number, oldname: Buffer | string, newdirfd: number, newname: string): void {
    const from = this.at(olddirfd);
    const to = this.at(newdirfd);
    const node = from.children.get(key(oldname));
    if (!node) throw new SysError('renameat2', ERR.ENOENT, '');
    if (to.children.has(key(newname))) throw new SysError('renameat2', ERR.EEXIST, '');
    from.children.delete(key(oldname));
    to.children.set(key(newname), node);
  }

  device(fd: number): number {
    return this.at(fd).dev;
  }

  close(fd: number): void {
    if (!this.fds.delete(fd)) throw new Error(`double close ${fd}`);
  }
}

function remove(fs: FakeFs, name: string): void {
  const parent = fs.fdOf(fs.root);
  const remover = new TreeRemover(fs, parent, name);
  try {
    while (!remover.step(1000));
  } finally {
    remover.close();
    fs.close(parent);
  }
}

function chain(fs: FakeFs, depth: number): Dir {
  const top = fs.dir();
  let d = top;
  for (let i = 0; i < depth; i++) {
    const next = fs.dir();
    d.children.set(key('d'), next);
    d.children.set(key(`f${i}`), { kind: 'file' });
    d = next;
  }
  return top;
}

describe('TreeRemover', () => {
  it('removes a directory chain 5,000 deep with at most MAX_DEPTH directories open', () => {
    const fs = new FakeFs();
    fs.root.children.set(key('tree'), chain(fs, 5000));
    remove(fs, 'tree');
    expect(fs.root.children.size).toBe(0);
    expect(fs.maxOpen).toBeLessThanOrEqual(MAX_DEPTH + 1);
    expect(fs.open).toBe(0);
  });

  it('removes wide directories whose reading misses entries as they go', () => {
    const fs = new FakeFs();
    const tree = fs.dir();
    for (let i = 0; i < 3000; i++) {
      const sub = fs.dir();
      sub.children.set(key('x'), { kind: 'file' });
      tree.children.set(key(`s${i}`), sub);
      tree.children.set(key(`f${i}`), { kind: 'file' });
    }
    fs.root.children.set(key('tree'), tree);
    remove(fs, 'tree');
    expect(fs.root.children.size).toBe(0);
  });

  it('passes names as raw bytes (names that are not UTF-8)', () => {
    const fs = new FakeFs();
    const tree = fs.dir();
    tree.children.set(Buffer.from([0x66, 0xff]).toString('hex'), { kind: 'file' });
    tree.children.set(Buffer.from([0x66, 0xfe]).toString('hex'), fs.dir());
    fs.root.children.set(key('tree'), tree);
    remove(fs, 'tree');
    expect(fs.root.children.size).toBe(0);
  });

  it('refuses to cross a mount point and leaves what is mounted there', () => {
    const fs = new FakeFs();
    const tree = fs.dir();
    const mounted = fs.dir(2);
    mounted.children.set(key('precious'), { kind: 'file' });
    tree.children.set(key('mnt'), mounted);
    fs.root.children.set(key('tree'), tree);
    expect(() => remove(fs, 'tree')).toThrow(MountPointError);
    expect(mounted.children.has(key('precious'))).toBe(true);
    expect(fs.open).toBe(0);
  });

  it('removes a plain file given as the tree, and nothing when there is nothing', () => {
    const fs = new FakeFs();
    fs.root.children.set(key('file'), { kind: 'file' });
    remove(fs, 'file');
    remove(fs, 'missing');
    expect(fs.root.children.size).toBe(0);
  });
});

describe('parseDirent', () => {
  it('reads a linux_dirent64 record', () => {
    const buf = Buffer.alloc(32);
    buf.writeUInt16LE(24, 16);
    buf[18] = 4;
    buf.write('abc', 19, 'latin1');
    const d = parseDirent(buf, 0);
    expect(d).toMatchObject({ type: 4, next: 24 });
    expect([...d.name]).toEqual([0x61, 0x62, 0x63, 0]);
  });
});
