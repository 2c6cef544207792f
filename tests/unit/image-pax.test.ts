import { describe, expect, it } from 'vitest';
import { parsePaxRecords, paxText, PaxFormatError } from '../../src/image/pax.js';
import { paxData } from '../helpers/image-tar.js';

describe('parsePaxRecords', () => {
  it('keeps values as raw bytes, every byte value included', () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const records = parsePaxRecords(paxData([['path', 'a/b'], ['SCHILY.xattr.security.capability', binary]]));
    expect(records.get('path')!.toString()).toBe('a/b');
    expect(records.get('SCHILY.xattr.security.capability')!.equals(binary)).toBe(true);
  });

  it('accepts NUL padding after the last record', () => {
    const data = Buffer.concat([paxData([['mtime', '1.5']]), Buffer.alloc(20)]);
    expect(paxText(parsePaxRecords(data), 'mtime')).toBe('1.5');
  });

  it('rejects malformed records', () => {
    const bad = ['x path=a\n', '99 path=a\n', '10 path=ab', '9 patha\n', '7 =abc\n', '0 a=b\n'];
    for (const text of bad) expect(() => parsePaxRecords(Buffer.from(text)), text).toThrow(PaxFormatError);
  });

  it('rejects a NUL byte in a key, and in text values when read as text', () => {
    expect(() => parsePaxRecords(paxData([['pa\0th', 'x']]))).toThrow(/NUL/);
    const records = parsePaxRecords(paxData([['path', 'a\0b']]));
    expect(() => paxText(records, 'path')).toThrow(/NUL/);
  });
});
