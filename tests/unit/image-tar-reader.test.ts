import { describe, expect, it } from 'vitest';
import { decodeHeader, numeric, TarFormatError, type TarHeader } from '../../src/image/tar-header.js';
import { MAX_EXTENDED_HEADER, MAX_EXTENSIONS_IN_A_ROW, MAX_GLOBAL_PAX_RECORDS, MAX_PAX_RECORDS, TarReader } from '../../src/image/tar-reader.js';
import { PaxFormatError } from '../../src/image/pax.js';
import type { PaxRecords } from '../../src/image/pax.js';
import { paxData, tarArchive, tarEntry, tarHeader, type TarEntry } from '../helpers/image-tar.js';

interface Member {
  header: TarHeader;
  pax: PaxRecords;
  data: Buffer;
}

/** Run the reader over `archive`, fed in pieces of `split` bytes (every boundary case). */
function read(archive: Buffer, split = archive.length): { members: Member[]; ended: boolean; metadata: number } {
  const members: Member[] = [];
  let metadata = 0;
  let current: { header: TarHeader; pax: PaxRecords; parts: Buffer[] } | null = null;
  const reader = new TarReader({
    entry(header, pax) {
      current = { header: { ...header }, pax, parts: [] };
    },
    data(bytes) {
      current!.parts.push(Buffer.from(bytes)); // a view: copy it, as the input may be reused
    },
    entryEnd() {
      members.push({ header: current!.header, pax: current!.pax, data: Buffer.concat(current!.parts) });
      current = null;
    },
    metadata(bytes) {
      metadata += bytes;
    },
  });
  for (let i = 0; i < archive.length; i += Math.max(1, split)) reader.push(archive.subarray(i, i + Math.max(1, split)));
  reader.end();
  return { members, ended: reader.ended, metadata };
}

function readError(archive: Buffer): TarFormatError {
  try {
    read(archive);
  } catch (err) {
    expect(err).toBeInstanceOf(TarFormatError);
    return err as TarFormatError;
  }
  throw new Error('expected the archive to be refused');
}

const sample: TarEntry[] = [
  { name: 'dir/', type: '5', mode: 0o755 },
  { name: 'dir/file', data: 'hello world', mode: 0o4755, uid: 1000, gid: 50, mtime: 1_700_000_000 },
  { name: 'dir/empty', data: '' },
  { name: 'dir/block', data: Buffer.alloc(512, 7) },
  { name: 'dir/odd', data: Buffer.alloc(1500, 9) },
  { name: 'link', type: '2', linkname: '/dir/file' },
  { name: 'hard', type: '1', linkname: 'dir/file' },
  { name: 'dev', type: '3', devmajor: 4000, devminor: 70000 },
];

describe('TarReader', () => {
  it('reads members and data the same whatever the chunk boundaries', () => {
    const archive = tarArchive(sample);
    const whole = read(archive);
    expect(whole.ended).toBe(true);
    expect(whole.members.map((m) => [m.header.name, m.header.type, m.data.length])).toEqual([
      ['dir/', 'directory', 0],
      ['dir/file', 'file', 11],
      ['dir/empty', 'file', 0],
      ['dir/block', 'file', 512],
      ['dir/odd', 'file', 1500],
      ['link', 'symlink', 0],
      ['hard', 'link', 0],
      ['dev', 'character-device', 0],
    ]);
    expect(whole.members[1]!.header).toMatchObject({ mode: 0o4755, uid: 1000, gid: 50, mtime: 1_700_000_000 });
    expect(whole.members[1]!.data.toString()).toBe('hello world');
    expect(whole.members[5]!.header.linkname).toBe('/dir/file');
    expect(whole.members[7]!.header).toMatchObject({ devmajor: 4000, devminor: 70000 });
    for (const split of [1, 7, 511, 512, 513, 1024, 4096]) {
      expect(read(archive, split).members, `split ${split}`).toEqual(whole.members);
    }
  });

  it('applies GNU long names and links, cut at their first NUL', () => {
    const long = 'a/'.repeat(80) + 'file';
    const target = 'b/'.repeat(70) + 'target';
    const { members } = read(tarArchive([{ name: long, type: '2', linkname: target, gnuLongNames: true }, { name: 'x\0y' + 'z'.repeat(120), data: 'd', gnuLongNames: true }]), 100);
    expect(members[0]!.header).toMatchObject({ name: long, linkname: target, type: 'symlink' });
    expect(members[1]!.header.name).toBe('x');
    expect(members[1]!.data.toString()).toBe('d');
  });

  it('keeps PAX values as bytes (NULs and high bytes included), and globals under locals', () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const global = paxData([['uname', 'g'], ['comment', 'global']]);
    const archive = Buffer.concat([
      tarHeader({ name: 'GlobalHead', type: 'g' }, global.length),
      global,
      Buffer.alloc(512 - global.length),
      tarEntry({ name: 'f', data: 'x', pax: [['SCHILY.xattr.security.capability', binary], ['comment', 'local']] }),
      tarEntry({ name: 'g', data: 'y' }),
      Buffer.alloc(1024),
    ]);
    const { members } = read(archive, 300);
    expect(members[0]!.pax.get('SCHILY.xattr.security.capability')!.equals(binary)).toBe(true);
    expect(members[0]!.pax.get('comment')!.toString()).toBe('local');
    expect(members[0]!.pax.get('uname')!.toString()).toBe('g');
    expect(members[1]!.pax.get('comment')!.toString()).toBe('global');
    expect(members[1]!.pax.has('SCHILY.xattr.security.capability')).toBe(false);
  });

  it('takes the data size from a PAX size record', () => {
    const data = Buffer.alloc(700, 3);
    const entry = tarEntry({ name: 'f', data, size: 0, pax: [['size', '700']] });
    const { members } = read(Buffer.concat([entry, tarEntry({ name: 'next', data: 'n' }), Buffer.alloc(1024)]));
    expect(members.map((m) => [m.header.name, m.data.length])).toEqual([
      ['f', 700],
      ['next', 1],
    ]);
    expect(readError(tarArchive([{ name: 'f', data: 'x', pax: [['size', '-1']] }])).message).toMatch(/PAX size/);
    expect(readError(tarArchive([{ name: 'f', data: 'x', pax: [['size', '99999999999999999']] }])).message).toMatch(/PAX size/);
  });

  it('treats a regular file whose final name ends in / as a directory', () => {
    const { members } = read(tarArchive([{ name: 'old-style/', type: '0' }, { name: 'x', data: '', pax: [['path', 'pax-dir/']] }, { name: 'y/', data: '', pax: [['path', 'file']] }]));
    expect(members.map((m) => m.header.type)).toEqual(['directory', 'directory', 'file']);
  });

  it('joins the POSIX prefix, but not in GNU headers', () => {
    const h = tarHeader({ name: 'name' }, 0);
    h.write('pre/fix', 345, 'latin1');
    fixChecksum(h);
    expect(decodeHeader(h, 0).name).toBe('pre/fix/name');
    h.write('ustar  \0', 257, 'latin1');
    fixChecksum(h);
    expect(decodeHeader(h, 0).name).toBe('name');
  });

  it('stops at the first zero block and ignores what follows', () => {
    const archive = Buffer.concat([tarEntry({ name: 'a', data: 'a' }), Buffer.alloc(512), Buffer.from('garbage that is not a header'.repeat(30))]);
    const { members, ended } = read(archive, 100);
    expect(ended).toBe(true);
    expect(members.map((m) => m.header.name)).toEqual(['a']);
  });

  it('refuses bad checksums, unknown formats and invalid sizes', () => {
    expect(readError(tarArchive([{ name: 'a', data: 'x', badChecksum: true }])).message).toBe('a tar header has a bad checksum');
    const v7 = tarHeader({ name: 'a' }, 0);
    v7.fill(0, 257, 265);
    fixChecksum(v7);
    expect(readError(Buffer.concat([v7, Buffer.alloc(1024)])).message).toMatch(/not in ustar, GNU or PAX format/);
    expect(readError(tarArchive([{ name: 'a', data: 'x', negativeSize: true }])).message).toBe('a tar header has an invalid size');
    const junk = tarHeader({ name: 'a' }, 0);
    junk.write('12x45678901\0', 124, 'latin1');
    fixChecksum(junk);
    expect(readError(Buffer.concat([junk, Buffer.alloc(1024)])).message).toBe('a tar header has an invalid size');
  });

  it('reads base-256 sizes, and refuses huge ones', () => {
    const h = tarHeader({ name: 'big' }, 0);
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h.writeUIntBE(600, 130, 6);
    fixChecksum(h);
    expect(decodeHeader(h, 0).size).toBe(600);
    h.fill(0xff, 125, 136); // 2^88 - 1: beyond any safe integer
    fixChecksum(h);
    expect(() => decodeHeader(h, 0)).toThrow(/invalid size/);
  });

  it('refuses oversized extended headers and dangling ones', () => {
    const huge = tarHeader({ name: 'PaxHeader', type: 'x' }, MAX_EXTENDED_HEADER + 1);
    expect(readError(Buffer.concat([huge, Buffer.alloc(1024)])).kind).toBe('too-big');
    const dangling = Buffer.concat([tarHeader({ name: '././@LongLink', type: 'L' }, 4), Buffer.from('abc\0'), Buffer.alloc(508 + 1024)]);
    expect(readError(dangling).message).toMatch(/not followed by a member/);
  });

  it('tells truncated archives apart: inside a member, and without an end marker', () => {
    const archive = tarArchive([{ name: 'a', data: Buffer.alloc(5000, 1) }]);
    for (const cut of [100, 512, 2048, archive.length - 1024 - 1]) {
      const err = readError(archive.subarray(0, cut));
      expect(err.kind).toBe('truncated');
      expect(err.message).toBe('');
    }
    const noEnd = readError(tarArchive([{ name: 'a', data: 'x' }], { noEnd: true }));
    expect([noEnd.kind, noEnd.message]).toEqual(['truncated', 'no end-of-archive marker']);
  });
});

describe('numeric fields', () => {
  const field = (bytes: number[] | string, signed = false): number | null => {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
    return numeric(buf, 0, buf.length, signed);
  };

  it('reads octal with leading spaces and NUL or space terminators', () => {
    expect(field('0000644\0')).toBe(0o644);
    expect(field('   644 \0')).toBe(0o644);
    expect(field('\0\0\0\0\0\0\0\0')).toBe(0);
    expect(field('77777777777\0')).toBe(0o77777777777);
    expect(field('777777777777')).toBe(0o777777777777); // a full field, no terminator
  });

  it('refuses anything else', () => {
    expect(field('0000648\0')).toBeNull();
    expect(field('12 34\0\0\0')).toBeNull();
    expect(field('-1\0\0\0\0\0\0')).toBeNull();
  });

  it('reads base-256, negative only where allowed', () => {
    expect(field([0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])).toBe(2 ** 32);
    const minusTwo = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe];
    expect(field(minusTwo)).toBeNull();
    expect(field(minusTwo, true)).toBe(-2);
  });
});

function fixChecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

describe('TarReader bounds (hostile archives stay linear)', () => {
  const globalHeader = (records: Array<[string, string]>): Buffer => {
    const data = paxData(records);
    const pad = (512 - (data.length % 512)) % 512;
    return Buffer.concat([tarHeader({ name: 'pax_global_header', type: 'g' }, data.length), data, Buffer.alloc(pad)]);
  };

  it('reports every header block and extended header as metadata', () => {
    const archive = tarArchive([{ name: 'a', data: 'xyz', pax: [['mtime', '1.5']] }, { name: 'b/', type: '5' }]);
    const paxBytes = paxData([['mtime', '1.5']]).length;
    expect(read(archive).metadata).toBe(512 + paxBytes + 512 + 512);
  });

  it('refuses a global PAX header with 300k records instead of applying them to every member', () => {
    // "13 k000123=v\n": 300k records of 13 bytes (3.9 MB, under the 4 MiB header limit).
    const text = Array.from({ length: 300_000 }, (_, i) => `13 k${String(i).padStart(6, '0')}=v\n`).join('');
    const data = Buffer.from(text);
    const pad = (512 - (data.length % 512)) % 512;
    const header = Buffer.concat([tarHeader({ name: 'pax_global_header', type: 'g' }, data.length), data, Buffer.alloc(pad)]);
    const archive = Buffer.concat([header, tarArchive([{ name: 'a', data: 'x' }])]);
    expect(() => read(archive)).toThrow(PaxFormatError);
    expect(() => read(archive)).toThrow(`more than ${MAX_GLOBAL_PAX_RECORDS} records`);
  });

  it('refuses global headers that add up to too many records, and keeps a small one for every member', () => {
    const many: Buffer[] = [];
    for (let i = 0; i <= MAX_GLOBAL_PAX_RECORDS; i++) many.push(globalHeader([[`k${i}`, 'v']]), tarEntry({ name: `m${i}` }));
    expect(() => read(Buffer.concat([...many, tarArchive([{ name: 'a' }])]))).toThrow(PaxFormatError);
    const { members } = read(Buffer.concat([globalHeader([['comment', 'c']]), tarArchive([{ name: 'a' }, { name: 'b' }])]));
    expect(members.map((m) => m.pax.get('comment')?.toString())).toEqual(['c', 'c']);
  });

  it('refuses a PAX header with more than MAX_PAX_RECORDS records', () => {
    const records: Array<[string, string]> = [];
    for (let i = 0; i <= MAX_PAX_RECORDS; i++) records.push([`SCHILY.xattr.user.k${i}`, 'v']);
    expect(() => read(tarArchive([{ name: 'a', pax: records }]))).toThrow(`more than ${MAX_PAX_RECORDS} records`);
  });

  it('refuses an endless run of extension headers without a member', () => {
    const run: Buffer[] = [];
    for (let i = 0; i <= MAX_EXTENSIONS_IN_A_ROW; i++) run.push(globalHeader([['comment', 'c']]));
    expect(readError(Buffer.concat([...run, tarArchive([{ name: 'a' }])])).message).toMatch(/extended headers in a row/);
  });

  it('keeps names as bytes: names that are not UTF-8 stay distinct', () => {
    const latin1 = (bytes: number[]) => Buffer.from(bytes).toString('latin1');
    const a = tarEntry({ name: 'n' });
    const b = tarEntry({ name: 'n' });
    // Put raw bytes 0xff and 0xfe into the names, fixing the checksums by rebuilding the headers.
    const withName = (entry: Buffer, bytes: number[]) => {
      const h = Buffer.from(entry);
      h.fill(0, 0, 100);
      Buffer.from(bytes).copy(h, 0);
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const byte of h.subarray(0, 512)) sum += byte;
      h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
      return h;
    };
    const { members } = read(Buffer.concat([withName(a, [0x66, 0xff]), withName(b, [0x66, 0xfe]), Buffer.alloc(1024)]));
    expect(members.map((m) => m.header.name)).toEqual([latin1([0x66, 0xff]), latin1([0x66, 0xfe])]);
  });
});
