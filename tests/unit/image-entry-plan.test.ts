import { describe, expect, it } from 'vitest';
import { BadEntryError, parsePaxTime, planEntry, type RawHeader } from '../../src/image/entry-plan.js';
import type { PaxRecords } from '../../src/image/pax.js';

function header(over: Partial<RawHeader> = {}): RawHeader {
  return { name: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_600_000_000, linkname: null, devmajor: 0, devminor: 0, ...over };
}
const pax = (records: Record<string, string | Buffer> = {}): PaxRecords => new Map(Object.entries(records).map(([k, v]) => [k, Buffer.from(v)]));

describe('planEntry', () => {
  it('keeps mode bits including setuid, setgid and sticky, and numeric owners', () => {
    const plan = planEntry(header({ mode: 0o107755, uid: 1000, gid: 50 }), pax());
    expect(plan).toMatchObject({ kind: 'file', mode: 0o7755, uid: 1000, gid: 50, path: ['a'], mtime: { sec: 1_600_000_000, nsec: 0 }, atime: null });
  });

  it('maps every supported type', () => {
    const types: Array<[string, string]> = [
      ['file', 'file'], ['contiguous-file', 'file'], ['directory', 'directory'], ['symlink', 'symlink'], ['link', 'hardlink'],
      ['character-device', 'char-device'], ['block-device', 'block-device'], ['fifo', 'fifo'],
    ];
    for (const [type, kind] of types) {
      const plan = planEntry(header({ type, linkname: type.includes('link') ? 'target' : null, devmajor: 1, devminor: 3 }), pax());
      expect(plan.kind).toBe(kind);
    }
  });

  it('rejects unknown types and GNU sparse files', () => {
    expect(() => planEntry(header({ type: null }), pax())).toThrow(/unsupported entry type/);
    expect(() => planEntry(header(), pax({ 'GNU.sparse.major': '1' }))).toThrow(/sparse/);
  });

  it('takes path, linkpath, size, uid, gid and nanosecond times from PAX', () => {
    const plan = planEntry(
      header({ type: 'symlink', linkname: 'short' }),
      pax({ path: 'very/long/name', linkpath: '/abs/target', uid: '3000000', gid: '4000000', mtime: '1700000000.123456789', atime: '5' }),
    );
    expect(plan).toMatchObject({ path: ['very', 'long', 'name'], symlinkTarget: '/abs/target', uid: 3000000, gid: 4000000, mtime: { sec: 1700000000, nsec: 123456789 }, atime: { sec: 5, nsec: 0 } });
  });

  it('rejects bad numbers', () => {
    expect(() => planEntry(header({ size: -1 }), pax())).toThrow(/invalid size/);
    expect(() => planEntry(header({ size: Number.NaN }), pax())).toThrow(/invalid size/);
    expect(() => planEntry(header({ size: 2 ** 60 }), pax())).toThrow(/invalid size/);
    expect(() => planEntry(header(), pax({ size: '12abc' }))).toThrow(/PAX size/);
    expect(() => planEntry(header(), pax({ uid: '-1' }))).toThrow(/PAX uid/);
    expect(() => planEntry(header(), pax({ uid: '4294967295' }))).toThrow(/out of range/);
    expect(() => planEntry(header({ uid: -5 }), pax())).toThrow(/invalid uid/);
    expect(() => planEntry(header(), pax({ mtime: 'soon' }))).toThrow(/PAX mtime/);
    expect(() => planEntry(header({ type: 'character-device', devmajor: -1 }), pax())).toThrow(/device major/);
  });

  it('rejects entries that would replace the root with anything but a directory', () => {
    expect(planEntry(header({ name: './', type: 'directory' }), pax()).path).toEqual([]);
    for (const type of ['symlink', 'file', 'fifo']) {
      expect(() => planEntry(header({ name: './', type, linkname: '/' }), pax())).toThrow(/replace the root/);
    }
  });

  it('checks link targets: symlinks kept literally, hard links normalised and confined', () => {
    expect(planEntry(header({ type: 'symlink', linkname: '../../../etc/shadow' }), pax()).symlinkTarget).toBe('../../../etc/shadow');
    expect(planEntry(header({ type: 'link', linkname: '/usr//bin/x' }), pax()).linkTarget).toEqual(['usr', 'bin', 'x']);
    expect(() => planEntry(header({ type: 'link', linkname: '../outside' }), pax())).toThrow(/hard link target/);
    expect(() => planEntry(header({ type: 'link', linkname: '/' }), pax())).toThrow(/root directory/);
    expect(() => planEntry(header({ type: 'symlink', linkname: '' }), pax())).toThrow(/without a target/);
    expect(() => planEntry(header({ type: 'symlink' }), pax({ linkpath: 'a\0b' }))).toThrow(/NUL/);
  });

  it('rejects names with ".." or NUL, from the header or from PAX', () => {
    expect(() => planEntry(header({ name: 'a/../../b' }), pax())).toThrow(BadEntryError);
    expect(() => planEntry(header(), pax({ path: 'x/\0/y' }))).toThrow(/NUL/);
  });

  it('collects SCHILY xattrs as bytes and rejects names outside the known namespaces', () => {
    const cap = Buffer.from([1, 0, 0, 2, 0x80, 0xff, 0, 0]);
    const plan = planEntry(header(), pax({ 'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.k': 'v', other: 'ignored' }));
    expect(plan.xattrs.map(([k]) => k)).toEqual(['security.capability', 'user.k']);
    expect(plan.xattrs[0]![1].equals(cap)).toBe(true);
    expect(() => planEntry(header(), pax({ 'SCHILY.xattr.evil': 'x' }))).toThrow(/xattr name/);
    expect(() => planEntry(header(), pax({ 'SCHILY.xattr.user.': 'x' }))).toThrow(/xattr name/);
  });

  it('rejects a directory that carries data', () => {
    expect(() => planEntry(header({ type: 'directory', size: 10 }), pax())).toThrow(/carries data/);
  });
});

describe('parsePaxTime', () => {
  it('parses whole and fractional seconds, before the epoch too', () => {
    expect(parsePaxTime('12')).toEqual({ sec: 12, nsec: 0 });
    expect(parsePaxTime('12.5')).toEqual({ sec: 12, nsec: 500_000_000 });
    expect(parsePaxTime('1.0000000019')).toEqual({ sec: 1, nsec: 1 }); // beyond ns: truncated
    expect(parsePaxTime('-1.5')).toEqual({ sec: -2, nsec: 500_000_000 });
    expect(parsePaxTime('-3')).toEqual({ sec: -3, nsec: 0 });
    expect(parsePaxTime('1e9')).toBeNull();
    expect(parsePaxTime('')).toBeNull();
  });
});
