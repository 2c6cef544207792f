import { describe, expect, it } from 'vitest';
import { joinEntryPath, normalizeEntryName, UnsafeNameError } from '../../src/image/entry-path.js';

describe('normalizeEntryName', () => {
  it('drops leading slashes, repeated slashes and "." components', () => {
    expect(normalizeEntryName('/etc//passwd')).toEqual(['etc', 'passwd']);
    expect(normalizeEntryName('./usr/./bin/')).toEqual(['usr', 'bin']);
    expect(normalizeEntryName('///a')).toEqual(['a']);
  });

  it('maps the root in any spelling to []', () => {
    for (const root of ['./', '.', '/', '', '//./']) expect(normalizeEntryName(root)).toEqual([]);
  });

  it('rejects ".." anywhere, even where it would stay inside', () => {
    for (const name of ['../etc', 'a/../b', 'a/..', '/../../x']) expect(() => normalizeEntryName(name)).toThrow(UnsafeNameError);
  });

  it('keeps names that only look like ".." or paths literally', () => {
    expect(normalizeEntryName('a/...')).toEqual(['a', '...']);
    expect(normalizeEntryName('a\\..\\b')).toEqual(['a\\..\\b']);
    expect(normalizeEntryName('\u2024\u2024/x')).toEqual(['\u2024\u2024', 'x']); // one dot leaders
    expect(normalizeEntryName('a\u2215b')).toEqual(['a\u2215b']); // division slash is not "/"
    expect(normalizeEntryName('..a/b..')).toEqual(['..a', 'b..']);
  });

  it('rejects NUL bytes and components longer than NAME_MAX', () => {
    expect(() => normalizeEntryName('a\0b')).toThrow(/NUL/);
    expect(() => normalizeEntryName('x'.repeat(256))).toThrow(/longer than 255/);
    expect(normalizeEntryName('x'.repeat(255))).toHaveLength(1);
    expect(() => normalizeEntryName('dd/'.repeat(1400))).toThrow(/PATH_MAX/);
    expect(normalizeEntryName('dd/'.repeat(1300))).toHaveLength(1300);
  });

  it('joins for display', () => {
    expect(joinEntryPath([])).toBe('.');
    expect(joinEntryPath(['a', 'b'])).toBe('a/b');
  });
});
