import { describe, expect, it } from 'vitest';
import { formatStatsLine, parseCpuStat, parseIoStat, parseMemoryEvents, statsRecord, type CgroupStats } from '../../src/cgroups/index.js';
import { parseSingleValue, readCgroupStats, UNMEASURED } from '../../src/cgroups/stats.js';
import type { CgroupFs } from '../../src/cgroups/cgroupfs.js';

describe('stat file parsers', () => {
  it('parses cpu.stat', () => {
    const text = 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 20\n';
    expect(parseCpuStat(text)).toEqual({ usageUs: 1500, userUs: 1000, systemUs: 500 });
    expect(parseCpuStat('')).toEqual({ usageUs: 0, userUs: 0, systemUs: 0 });
  });

  it('parses memory.events', () => {
    expect(parseMemoryEvents('low 0\nhigh 2\nmax 17\noom 1\noom_kill 1\noom_group_kill 0\n')).toEqual({ low: 0, high: 2, max: 17, oom: 1, oomKill: 1 });
  });

  it('sums io.stat over devices and ignores unknown keys', () => {
    const text = '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n';
    expect(parseIoStat(text)).toEqual({ readBytes: 4196, writeBytes: 8192 });
    expect(parseIoStat('')).toEqual({ readBytes: 0, writeBytes: 0 });
  });

  it('reads single values, "max" as null', () => {
    expect(parseSingleValue('123\n')).toBe(123);
    expect(parseSingleValue('max\n')).toBeNull();
  });
});

describe('formatStatsLine', () => {
  const stats: CgroupStats = {
    cpuUserUs: 800_000, cpuSystemUs: 50_000, memoryPeakBytes: 12 * 1024 * 1024, memoryCurrentBytes: 1024,
    pidsPeak: 4, oomKills: 0, ioReadBytes: 1024 * 1024, ioWriteBytes: 0,
  };

  it('summarises in one line', () => {
    expect(formatStatsLine(stats, 1203)).toBe('wall 1.20s, cpu 0.85s (user 0.80s, system 0.05s), memory peak 12MiB, pids peak 4, io read 1.0MiB written 0B');
  });

  it('says n/a for what the host could not measure, never 0, and names OOM kills', () => {
    const line = formatStatsLine({ ...stats, memoryPeakBytes: null, memoryCurrentBytes: null, pidsPeak: null, oomKills: 2 }, 10);
    expect(line).toBe('wall 0.01s, cpu 0.85s (user 0.80s, system 0.05s), memory peak n/a, pids peak n/a, io read 1.0MiB written 0B, OOM kills 2');
    expect(line).not.toContain('\n');
  });

  it('a host without io.stat: io read n/a written n/a (not 0B)', () => {
    const line = formatStatsLine({ ...stats, ioReadBytes: null, ioWriteBytes: null }, 10);
    expect(line).toContain('io read n/a written n/a');
    expect(line).not.toMatch(/\b0B\b/);
  });

  it('without a cgroup everything but the wall time is n/a', () => {
    expect(formatStatsLine(null, 1500)).toBe('wall 1.50s, cpu n/a, memory peak n/a, pids peak n/a, io read n/a written n/a, OOM kills n/a');
    expect(formatStatsLine(UNMEASURED, 1500)).toBe(formatStatsLine(null, 1500));
  });

  it('makes a JSON record with the wall time; unmeasured fields are null', () => {
    expect(JSON.parse(JSON.stringify(statsRecord(stats, 1203.4)))).toEqual({ wallMs: 1203, ...stats });
    const none = JSON.parse(JSON.stringify(statsRecord(null, 10))) as Record<string, unknown>;
    expect(none).toEqual({ wallMs: 10, cpuUserUs: null, cpuSystemUs: null, memoryPeakBytes: null, memoryCurrentBytes: null, pidsPeak: null, oomKills: null, ioReadBytes: null, ioWriteBytes: null });
  });
});

describe('readCgroupStats', () => {
  /** A group directory holding only the given files; reading any other throws ENOENT as the kernel's would. */
  const fsWith = (files: Record<string, string>) =>
    ({
      read: (path: string) => {
        const name = path.split('/').pop()!;
        if (name in files) return files[name]!;
        throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      },
    }) as unknown as CgroupFs;

  it('a group with only cpu.stat (no io, memory or pids controller): those are null, not 0', () => {
    const stats = readCgroupStats(fsWith({ 'cpu.stat': 'usage_usec 30\nuser_usec 20\nsystem_usec 10\n' }), '/cg/x');
    expect(stats).toEqual({ cpuUserUs: 20, cpuSystemUs: 10, memoryPeakBytes: null, memoryCurrentBytes: null, pidsPeak: null, oomKills: null, ioReadBytes: null, ioWriteBytes: null });
  });

  it('an empty io.stat (the controller is on, nothing was read or written) is 0', () => {
    const stats = readCgroupStats(fsWith({ 'cpu.stat': '', 'io.stat': '', 'memory.events': 'oom_kill 0\n' }), '/cg/x');
    expect(stats).toMatchObject({ ioReadBytes: 0, ioWriteBytes: 0, oomKills: 0 });
  });

  it('no group files at all: everything null', () => {
    expect(readCgroupStats(fsWith({}), '/cg/x')).toEqual(UNMEASURED);
  });
});
