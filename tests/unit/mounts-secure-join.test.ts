import { describe, expect, it } from 'vitest';
import { secureJoin, SymlinkLoopError, type LinkReader } from '../../src/mounts/secure-join.js';

/** A fake tree: host path -> symlink target. */
function links(map: Record<string, string>): LinkReader {
  return { readlink: (p) => map[p] ?? null };
}

describe('secureJoin resolves container paths inside the root', () => {
  const root = '/r';

  it('joins plain paths', () => {
    expect(secureJoin(root, '/etc/hosts', links({}))).toBe('/r/etc/hosts');
    expect(secureJoin(root, 'etc//./hosts', links({}))).toBe('/r/etc/hosts');
  });

  it('clamps .. at the root', () => {
    expect(secureJoin(root, '/../../etc/passwd', links({}))).toBe('/r/etc/passwd');
    expect(secureJoin(root, '/a/../../../b', links({}))).toBe('/r/b');
  });

  it('restarts absolute symlinks at the root (CVE-2019-19921 class)', () => {
    expect(secureJoin(root, '/proc', links({ '/r/proc': '/etc' }))).toBe('/r/etc');
    expect(secureJoin(root, '/dev/pts', links({ '/r/dev': '/tmp/../../host' }))).toBe('/r/host/pts');
  });

  it('keeps relative symlinks with .. inside the root', () => {
    expect(secureJoin(root, '/etc/hosts', links({ '/r/etc': '../../../../data' }))).toBe('/r/data/hosts');
    expect(secureJoin(root, '/a/b', links({ '/r/a': 'x/y', '/r/x/y/b': '../z' }))).toBe('/r/x/z');
    expect(secureJoin(root, '/a/b', links({ '/r/a': 'x/y', '/r/x/y/b': '../../../../z' }))).toBe('/r/z');
  });

  it('follows a chain of links', () => {
    expect(secureJoin(root, '/bin/sh', links({ '/r/bin': 'usr/bin', '/r/usr/bin/sh': '/bin/busybox' }))).toBe('/r/usr/bin/busybox');
  });

  it('fails on symlink loops instead of spinning', () => {
    expect(() => secureJoin(root, '/a', links({ '/r/a': '/b', '/r/b': '/a' }))).toThrow(SymlinkLoopError);
    expect(() => secureJoin(root, '/etc/x', links({ '/r/etc': '../../etc' }))).toThrow(SymlinkLoopError);
  });
});
