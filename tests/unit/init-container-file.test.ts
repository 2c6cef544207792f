import { describe, expect, it } from 'vitest';
import { readContainerFile, type ContainerFileSys } from '../../src/init/container-file.js';

const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;

function fakeSys(files: Record<string, { mode: number; data?: string; openError?: string }>): ContainerFileSys & { closed: number[] } {
  const open = new Map<number, { mode: number; data: Buffer; pos: number }>();
  let next = 10;
  const closed: number[] = [];
  return {
    closed,
    openRead(path) {
      const f = files[path];
      if (!f) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      if (f.openError) throw Object.assign(new Error(`${f.openError}: ${path}`), { code: f.openError });
      open.set(next, { mode: f.mode, data: Buffer.from(f.data ?? ''), pos: 0 });
      return next++;
    },
    fstat(fd) {
      const f = open.get(fd)!;
      return { mode: f.mode, size: f.data.length };
    },
    read(fd, buf, offset, length) {
      const f = open.get(fd)!;
      const n = f.data.copy(buf, offset, f.pos, f.pos + length);
      f.pos += n;
      return n;
    },
    close(fd) {
      closed.push(fd);
    },
  };
}

describe('reading /etc/passwd and /etc/group of the container', () => {
  it('reads a regular file and closes it', () => {
    const sys = fakeSys({ '/etc/passwd': { mode: S_IFREG | 0o644, data: 'root:x:0:0::/root:/bin/sh\n' } });
    expect(readContainerFile('/etc/passwd', sys)).toBe('root:x:0:0::/root:/bin/sh\n');
    expect(sys.closed).toEqual([10]);
  });

  it('a missing file is null', () => {
    expect(readContainerFile('/etc/group', fakeSys({}))).toBeNull();
  });

  it('refuses a FIFO or a device, without reading it', () => {
    for (const mode of [S_IFIFO, S_IFCHR]) {
      const sys = fakeSys({ '/etc/passwd': { mode: mode | 0o644 } });
      expect(() => readContainerFile('/etc/passwd', sys)).toThrow(/is not a regular file/);
      expect(sys.closed).toEqual([10]);
    }
  });

  it('a magic link (ELOOP/EXDEV from openat2) is an error that names the file', () => {
    expect(() => readContainerFile('/etc/passwd', fakeSys({ '/etc/passwd': { mode: 0, openError: 'ELOOP' } }))).toThrow(/\/etc\/passwd: it is a link that leaves the container/);
  });

  it('refuses a file over the cap, whatever its size said at open', () => {
    expect(() => readContainerFile('/etc/passwd', fakeSys({ '/etc/passwd': { mode: S_IFREG, data: 'x'.repeat(101) } }), 100)).toThrow(/larger than/);
    expect(readContainerFile('/etc/passwd', fakeSys({ '/etc/passwd': { mode: S_IFREG, data: 'x'.repeat(100) } }), 100)).toHaveLength(100);
  });
});
