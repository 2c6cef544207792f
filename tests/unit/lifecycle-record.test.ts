import { describe, expect, it } from 'vitest';
import { checkName, describeStatus, formatPsTable, humanDuration, markOwnerGone, resolveRef, type ContainerRecord } from '../../src/runtime/state/record.js';
import { parseSignal } from '../../src/cli/container-args.js';

const base: ContainerRecord = {
  version: 1, id: 'abc123'.padEnd(64, '0'), shortId: 'abc123000000', name: 'web', command: ['sh', '-c', 'echo hi'], rootfs: '/r.tar', imageDigest: null,
  created: '2024-01-01T00:00:00.000Z', startedAt: '2024-01-01T00:00:01.000Z', finishedAt: null, status: 'running', pid: 42, ownerPid: 41,
  exitCode: null, oomKilled: false, error: null, detached: true, keep: true, tty: false, init: false, cgroup: null,
};
const other = { ...base, id: 'abd'.padEnd(64, '1'), shortId: 'abd111111111', name: 'db' };

describe('resolveRef', () => {
  it('prefers an exact name, then an exact id, then a unique prefix', () => {
    expect(resolveRef('web', [base, other])).toBe(base);
    expect(resolveRef(other.id, [base, other])).toBe(other);
    expect(resolveRef('abc', [base, other])).toBe(base);
    expect(resolveRef('abd1', [base, other])).toBe(other);
  });
  it('refuses an ambiguous prefix and an unknown reference', () => {
    expect(() => resolveRef('ab', [base, other])).toThrow(/matches 2 containers/);
    expect(() => resolveRef('nope', [base, other])).toThrow(/no such container: nope/);
    expect(() => resolveRef('', [base])).toThrow(/empty/);
  });
  it('a name that looks like a prefix of another id still means the named one', () => {
    const named = { ...base, name: 'abd' };
    expect(resolveRef('abd', [named, other])).toBe(named);
  });
});

describe('records', () => {
  it('checks names', () => {
    expect(checkName('web-1.a_b')).toBe('web-1.a_b');
    expect(() => checkName('-x')).toThrow(/invalid --name/);
    expect(() => checkName('a/b')).toThrow(/invalid --name/);
  });
  it('marks a record whose owner died as exited 137, once', () => {
    const now = new Date('2024-01-01T00:01:00.000Z');
    const gone = markOwnerGone(base, now);
    expect(gone).toMatchObject({ status: 'exited', exitCode: 137, pid: null, finishedAt: now.toISOString() });
    expect(gone.error).toMatch(/killed/);
    expect(markOwnerGone(gone, new Date())).toBe(gone);
  });
  it('describes statuses like docker', () => {
    const now = new Date('2024-01-01T00:03:01.000Z');
    expect(describeStatus(base, now)).toBe('Up 3 minutes');
    expect(describeStatus({ ...base, status: 'exited', exitCode: 2, finishedAt: '2024-01-01T00:02:56.000Z' }, now)).toBe('Exited (2) 5 seconds ago');
    expect(describeStatus({ ...base, status: 'created' }, now)).toBe('Created');
    expect(describeStatus({ ...base, status: 'creating', pid: null }, now)).toBe('Creating');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(3 * 3600_000)).toBe('3 hours');
  });
  it('formats the ps table with aligned columns', () => {
    const table = formatPsTable([base, { ...other, pid: null, status: 'exited', exitCode: 0, finishedAt: base.created }], new Date('2024-01-01T00:00:10.000Z')).split('\n');
    expect(table[0]).toMatch(/^CONTAINER ID\s+NAME\s+COMMAND\s+CREATED\s+STATUS\s+PID$/);
    expect(table[1]).toMatch(/^abc123000000\s+web\s+"sh -c echo hi"\s+10 seconds ago\s+Up 9 seconds\s+42$/);
    expect(table[2]).toMatch(/Exited \(0\) 10 seconds ago$/);
  });
  it('parses signals by name and number', () => {
    expect(parseSignal('TERM')).toBe('SIGTERM');
    expect(parseSignal('sigkill')).toBe('SIGKILL');
    expect(parseSignal('9')).toBe(9);
    expect(() => parseSignal('NOPE')).toThrow(/invalid signal/);
    expect(() => parseSignal('0')).toThrow(/invalid signal/);
  });
});
