import { describe, expect, it } from 'vitest';
import { planExec } from '../../src/runtime/exec-plan.js';
import { cpuPercent, formatStatsTable, parseLimit, statsRow, type StatsSample } from '../../src/runtime/stats-table.js';
import { entryInUse, imageUsers, resolveDigest } from '../../src/runtime/prune-plan.js';
import type { SecurityPlan } from '../../src/security/index.js';

const security = { marker: 'the container plan' } as unknown as SecurityPlan;
const spec = { process: { args: ['sleep', '60'], env: ['PATH=/bin', 'HOSTNAME=c1', 'A=1'], cwd: '/srv', user: 'nobody' }, security };
const flags = { command: ['ps'], env: [] as string[], tty: false, debug: false };

describe('planExec', () => {
  it("takes the container's env, user, workdir and security plan", () => {
    expect(planExec(spec, flags, {})).toEqual({ process: { args: ['ps'], env: ['PATH=/bin', 'HOSTNAME=c1', 'A=1'], cwd: '/srv', user: 'nobody' }, security, tty: false, debug: false });
  });
  it('-e overrides in place and appends, -e NAME copies from the host, -u and -w replace', () => {
    const p = planExec(spec, { ...flags, env: ['A=2', 'B=3', 'FROM_HOST', 'UNSET'], user: '1000:1000', workdir: '/tmp/../var' }, { FROM_HOST: 'x' });
    expect(p.process.env).toEqual(['PATH=/bin', 'HOSTNAME=c1', 'A=2', 'B=3', 'FROM_HOST=x']);
    expect(p.process.user).toBe('1000:1000');
    expect(p.process.cwd).toBe('/var');
    expect(p.security).toBe(security);
  });
  it('refuses bad input with a usage error', () => {
    expect(() => planExec(spec, { ...flags, command: [] }, {})).toThrow(/needs a command/);
    expect(() => planExec(spec, { ...flags, workdir: 'rel' }, {})).toThrow(/absolute/);
    expect(() => planExec(spec, { ...flags, user: 'a:b:c' }, {})).toThrow(/--user/);
    expect(() => planExec(spec, { ...flags, env: ['1BAD=x'] }, {})).toThrow(/not a valid variable name/);
  });
});

const sample = (atMs: number, cpuUsageUs: number): StatsSample => ({ atMs, cpuUsageUs, memoryBytes: 50 * 1024 * 1024, memoryLimitBytes: 200 * 1024 * 1024, pids: 3 });

describe('stats', () => {
  it('CPU % is CPU time over wall time; 2 busy CPUs make 200%', () => {
    expect(cpuPercent(null, sample(1000, 5))).toBeNull();
    expect(cpuPercent(sample(1000, 0), sample(2000, 500_000))).toBeCloseTo(50);
    expect(cpuPercent(sample(1000, 0), sample(1500, 1_000_000))).toBeCloseTo(200);
    expect(cpuPercent(sample(1000, 10), sample(1000, 20))).toBeNull();
    expect(cpuPercent(sample(1000, 900), sample(2000, 100))).toBe(0);
  });
  it('rows and the table', () => {
    const row = statsRow('f'.repeat(64), 'web', sample(0, 0), sample(1000, 250_000));
    expect(row).toMatchObject({ cpuPercent: 25, memoryPercent: 25, pids: 3 });
    const table = formatStatsTable([{ ...row, netRxBytes: 2048, netTxBytes: 1024 }, { ...row, name: 'x', cpuPercent: null, memoryBytes: null, memoryPercent: null, pids: null }]).split('\n');
    expect(table[0]).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+PIDS$/);
    expect(table[1]).toMatch(/^ffffffffffff\s+web\s+25\.00%\s+50MiB \/ 200MiB\s+25\.00%\s+2\.0KiB \/ 1\.0KiB\s+3$/);
    expect(table[2]).toMatch(/n\/a\s+n\/a \/ 200MiB\s+n\/a\s+n\/a\s+n\/a$/);
  });
  it('memory.max: "max" is the host memory', () => {
    expect(parseLimit('max\n', 99)).toBe(99);
    expect(parseLimit('1048576\n', 99)).toBe(1048576);
    expect(parseLimit('junk', 99)).toBeNull();
  });
});

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'ab'.repeat(32)}`;
const rec = (name: string | null, imageDigest: string | null, status: 'created' | 'running' | 'exited' = 'running', created = '2024-01-01T00:00:00.000Z') => ({ shortId: `${name ?? 'id'}000`, name, imageDigest, status, created });

describe('prune decisions', () => {
  it('users of each entry, running or stopped', () => {
    expect(imageUsers([rec('a', D1), rec(null, D1, 'exited'), rec('b', D2), rec('c', null)])).toEqual(new Map([[D1, ['a', 'id000']], [D2, ['b']]]));
  });
  it('an entry is in use while a record names it, or when a starting container may be about to', () => {
    expect(entryInUse({ digest: D1, lastUsed: null }, [rec('a', D1, 'exited')])).toBe('used by container a');
    expect(entryInUse({ digest: D2, lastUsed: new Date('2023-01-01') }, [rec('a', D1)])).toBeNull();
    const starting = [rec('s', null, 'created', '2024-01-01T00:00:00.000Z')];
    expect(entryInUse({ digest: D2, lastUsed: new Date('2024-01-01T00:00:01Z') }, starting)).toMatch(/starting/);
    expect(entryInUse({ digest: D2, lastUsed: new Date('2023-12-31T23:00:00Z') }, starting)).toBeNull();
  });
  it('digests by full value, bare hex or unique prefix', () => {
    expect(resolveDigest(D1, [D1, D2])).toEqual({ digest: D1 });
    expect(resolveDigest('aaa', [D1, D2])).toEqual({ digest: D1 });
    expect(resolveDigest('sha256:ab', [D1, D2])).toEqual({ digest: D2 });
    expect(resolveDigest('a', [D1, D2])).toEqual({ error: "'a' matches 2 cache entries" });
    expect(resolveDigest('ff', [D1])).toEqual({ error: 'no such rootfs cache entry: ff' });
    expect(resolveDigest('xyz', [D1])).toEqual({ error: 'not a digest: xyz' });
  });
});
