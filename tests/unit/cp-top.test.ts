import { describe, expect, it } from 'vitest';
import { containerPathParts, decideTarget, hostMode, hostPathParts, parseCpEndpoint, planCpJob, type NodeKind } from '../../src/runtime/cp/plan.js';
import { cpuTime, effectiveUid, filterPsOutput, formatTop, parseStat, passwdNames, startTimeLabel, topRow, ttyName, TOP_HEADER } from '../../src/runtime/top/columns.js';

describe('cp arguments', () => {
  it('NAME:PATH is a container path; absolute and ./ paths are the host\'s; - is a stream', () => {
    expect(parseCpEndpoint('web:/etc/hosts')).toEqual({ side: 'container', ref: 'web', path: '/etc/hosts' });
    expect(parseCpEndpoint('web:etc')).toEqual({ side: 'container', ref: 'web', path: 'etc' });
    expect(parseCpEndpoint('/tmp/a:b')).toEqual({ side: 'host', path: '/tmp/a:b' });
    expect(parseCpEndpoint('./a:b')).toEqual({ side: 'host', path: './a:b' });
    expect(parseCpEndpoint('file.txt')).toEqual({ side: 'host', path: 'file.txt' });
    expect(parseCpEndpoint(':x')).toEqual({ side: 'host', path: ':x' });
    expect(parseCpEndpoint('-')).toEqual({ side: 'stream' });
  });
  it('exactly one side is a container', () => {
    expect(planCpJob('a.txt', 'web:/tmp')).toEqual({ direction: 'to-container', ref: 'web', src: 'a.txt', dest: '/tmp' });
    expect(planCpJob('web:/etc/hosts', '.')).toEqual({ direction: 'from-container', ref: 'web', src: '/etc/hosts', dest: '.' });
    expect(planCpJob('web:/etc', '-')).toEqual({ direction: 'from-container', ref: 'web', src: '/etc', dest: null });
    expect(() => planCpJob('a:/x', 'b:/y')).toThrow(/between containers/);
    expect(() => planCpJob('/a', '/b')).toThrow(/one side must be a container/);
    expect(planCpJob('-', 'web:/x')).toEqual({ direction: 'to-container', ref: 'web', src: null, dest: '/x' });
    expect(() => planCpJob('-', '/x')).toThrow(/goes into a container/);
    expect(() => planCpJob('-', '-')).toThrow(/both be "-"/);
    expect(() => planCpJob('web:', '/x')).toThrow(/container path is empty/);
  });
  it('container paths are cleaned inside the root: ".." never climbs above it', () => {
    expect(containerPathParts('../../etc/passwd').clean).toBe('/etc/passwd');
    expect(containerPathParts('a/../../..').clean).toBe('/');
    expect(containerPathParts('/data/.')).toEqual({ clean: '/data', contentsOnly: true, mustBeDir: false });
    expect(containerPathParts('/data/')).toEqual({ clean: '/data', contentsOnly: false, mustBeDir: true });
    expect(hostPathParts('out/.')).toEqual({ clean: 'out', contentsOnly: true, mustBeDir: false });
    expect(hostPathParts('.')).toEqual({ clean: '.', contentsOnly: true, mustBeDir: false });
  });
});

describe('cp: docker\'s rules for where the source goes', () => {
  const decide = (srcKind: NodeKind, src: string, destKind: 'dir' | 'non-dir' | null, dest: string) =>
    decideTarget({ kind: srcKind, parts: containerPathParts(src) }, { parts: containerPathParts(dest), facts: { kind: destKind } }, containerPathParts(src).clean.split('/').pop()!);
  it('a file: created, into a directory, or over a file', () => {
    expect(decide('file', '/a.txt', null, '/tmp/b.txt')).toEqual({ at: 'in-parent', name: 'b.txt' });
    expect(decide('file', '/a.txt', 'dir', '/tmp')).toEqual({ at: 'into-dest', name: 'a.txt' });
    expect(decide('file', '/a.txt', 'non-dir', '/tmp/b.txt')).toEqual({ at: 'in-parent', name: 'b.txt' });
    expect(decide('symlink', '/l', 'dir', '/tmp')).toEqual({ at: 'into-dest', name: 'l' });
    expect(() => decide('file', '/a.txt', null, '/tmp/new/')).toThrow(/destination directory \/tmp\/new does not exist/);
    expect(() => decide('file', '/a.txt/', 'dir', '/tmp')).toThrow(/not a directory/);
  });
  it('a directory: created, into a directory, its contents with /., never over a file', () => {
    expect(decide('dir', '/src', null, '/tmp/new')).toEqual({ at: 'in-parent', name: 'new' });
    expect(decide('dir', '/src', 'dir', '/tmp')).toEqual({ at: 'into-dest', name: 'src' });
    expect(decide('dir', '/src/.', 'dir', '/tmp')).toEqual({ at: 'merge' });
    expect(decide('dir', '/', 'dir', '/tmp')).toEqual({ at: 'merge' });
    expect(() => decide('dir', '/src', 'non-dir', '/tmp/f')).toThrow(/cannot copy a directory to a file/);
  });
  it('drops set-uid and set-gid bits on the way to the host, keeps the rest', () => {
    expect(hostMode(0o4755)).toBe(0o755);
    expect(hostMode(0o2755)).toBe(0o755);
    expect(hostMode(0o1777)).toBe(0o1777);
    expect(hostMode(0o640)).toBe(0o640);
  });
});

describe('top columns (ps -ef)', () => {
  const stat = '4242 (my (odd) cmd) S 4200 4242 4242 34816 4242 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12000 1000000 200 18446744073709551615';
  it('parses /proc/PID/stat after the last parenthesis', () => {
    expect(parseStat(stat)).toEqual({ comm: 'my (odd) cmd', ppid: 4200, ttyNr: 34816, utime: 250, stime: 50, startTime: 12000 });
    expect(parseStat('garbage')).toBeNull();
  });
  it('tty names, cpu time, start time, effective uid', () => {
    expect(ttyName(0)).toBe('?');
    expect(ttyName(34816)).toBe('pts/0');
    expect(ttyName((136 << 8) | 5)).toBe('pts/5');
    expect(ttyName((4 << 8) | 1)).toBe('tty1');
    expect(cpuTime(3)).toBe('00:00:03');
    expect(cpuTime(3723.9)).toBe('01:02:03');
    expect(cpuTime(90061)).toBe('1-01:01:01');
    const now = new Date(2026, 10, 30, 18, 0);
    expect(startTimeLabel(new Date(2026, 10, 30, 9, 5), now)).toBe('09:05');
    expect(startTimeLabel(new Date(2026, 1, 3, 9, 5), now)).toBe('Feb03');
    expect(startTimeLabel(new Date(2024, 1, 3), now)).toBe('2024');
    expect(effectiveUid('Name:\tsh\nUid:\t1000\t0\t0\t0\n')).toBe(0);
    expect(passwdNames('root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n').get(1000)).toBe('bob');
  });
  it('a row and the table', () => {
    const host = { bootTime: 1_000_000, hz: 100, now: new Date((1_000_000 + 120 + 10) * 1000), userName: (uid: number) => (uid === 0 ? 'root' : null) };
    const row = topRow({ pid: 4242, stat, status: 'Uid:\t0\t0\t0\t0\n', cmdline: 'sh\0-c\0sleep 1\0' }, host)!;
    // 3 s of CPU over 10 s since it started (120 s after boot): 30 %
    expect(row).toEqual(['root', '4242', '4200', '30', startTimeLabel(new Date((1_000_000 + 120) * 1000), host.now), 'pts/0', '00:00:03', 'sh -c sleep 1']);
    const kernelish = topRow({ pid: 7, stat, status: 'Uid:\t5\t5\t5\t5\n', cmdline: '' }, host)!;
    expect(kernelish[0]).toBe('5');
    expect(kernelish[7]).toBe('[my (odd) cmd]');
    const table = formatTop(TOP_HEADER, [row, kernelish]).split('\n');
    expect(table[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(table[1]).toMatch(/^root 4242 4200 30 \S+ pts\/0 00:00:03 sh -c sleep 1$/);
    expect(table[2]).toMatch(/^5\s+ 7 4200 30 /);
  });
  it('filters the host ps output by its PID column, as docker does', () => {
    const out = 'USER PID %CPU COMMAND\nroot 1 0.0 init\nroot 42 0.1 sleep 100\nbob 43 0.0 vim\n';
    expect(filterPsOutput(out, new Set([42]))).toBe('USER PID %CPU COMMAND\nroot 42 0.1 sleep 100');
    expect(filterPsOutput('COMMAND\nsleep\n', new Set([42]))).toBeNull();
  });
});
