import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkHostname, mergeEnv, parseEnvAssignment, parseEnvFile, parseTmpfs, parseVolume } from '../../src/spec/parse.js';
import { parseSize } from '../../src/spec/units.js';
import { MS } from '../../src/sys/mount-flags.js';

describe('-e and --env-file', () => {
  it('takes NAME=VALUE as is and copies bare NAMEs from the host', () => {
    expect(parseEnvAssignment('A=b=c', {})).toBe('A=b=c');
    expect(parseEnvAssignment('HOME', { HOME: '/root' })).toBe('HOME=/root');
    expect(parseEnvAssignment('UNSET', {})).toBeNull();
  });

  it('refuses invalid names', () => {
    expect(() => parseEnvAssignment('1A=x', {})).toThrow(UsageError);
    expect(() => parseEnvAssignment('=x', {})).toThrow(/not a valid variable name/);
  });

  it('reads env files, skipping comments and blank lines, naming the bad line', () => {
    expect(parseEnvFile('# c\nA=1\n\nB\r\n  C=3\n', 'f', { B: 'two' })).toEqual(['A=1', 'B=two', 'C=3']);
    expect(() => parseEnvFile('A=1\nnot valid\n', 'f.env', {})).toThrow(/f.env line 2/);
  });

  it('lets later assignments win', () => {
    expect(mergeEnv(['PATH=/bin', 'TERM=xterm'], ['PATH=/x'])).toEqual(['PATH=/x', 'TERM=xterm']);
  });
});

describe('-v', () => {
  it('parses HOST:CONTAINER[:ro|rw]', () => {
    expect(parseVolume('/a:/b')).toEqual({ source: '/a', target: '/b', readOnly: false });
    expect(parseVolume('/a/:/b/../c:ro')).toEqual({ source: '/a/', target: '/c', readOnly: true });
  });

  it('refuses what it cannot mount', () => {
    for (const bad of ['/a', 'named:/b', '/a:b', '/a:/b:rx', '/a:/b:ro:x', '/a:/']) expect(() => parseVolume(bad)).toThrow(UsageError);
  });
});

describe('--tmpfs', () => {
  it('defaults to noexec,nosuid,nodev and takes docker options', () => {
    expect(parseTmpfs('/t')).toEqual({ target: '/t', flags: MS.NOEXEC | MS.NOSUID | MS.NODEV, data: '' });
    expect(parseTmpfs('/t:exec,size=64m,mode=1777')).toEqual({ target: '/t', flags: MS.NOSUID | MS.NODEV, data: 'size=64m,mode=1777' });
  });

  it('refuses relative paths and unknown options', () => {
    expect(() => parseTmpfs('t')).toThrow(UsageError);
    expect(() => parseTmpfs('/t:bogus')).toThrow(/unknown option 'bogus'/);
    expect(() => parseTmpfs('/t:size=1m,uid=0;rm')).toThrow(UsageError);
  });
});

describe('sizes and hostnames', () => {
  it('parses docker sizes', () => {
    expect(parseSize('512', '--x')).toBe(512);
    expect(parseSize('64k', '--x')).toBe(65536);
    expect(parseSize('512m', '--x')).toBe(512 * 1024 ** 2);
    expect(parseSize('1.5G', '--x')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('2KiB', '--x')).toBe(2048);
    expect(parseSize('1gb', '--x')).toBe(1024 ** 3);
    for (const bad of ['', 'abc', '-1m', '0', '1x', '1.2.3m']) expect(() => parseSize(bad, '--x')).toThrow(/invalid --x value/);
  });

  it('accepts RFC 1123 hostnames only', () => {
    expect(checkHostname('build-42.ci')).toBe('build-42.ci');
    for (const bad of ['', '-a', 'a_b', 'a..b', 'x'.repeat(65), 'a b']) expect(() => checkHostname(bad)).toThrow(UsageError);
  });
});
