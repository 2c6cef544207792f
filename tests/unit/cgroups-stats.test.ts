import { describe, expect, it } from 'vitest';
import { formatStatsLine, parseCpuStat, parseIoStat, parseMemoryEvents, statsRecord, type CgroupStats } from '../../src/cgroups/index.js';
import { parseSingleValue } from '../../src/cgroups/stats.js';

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

  it('leaves out what the host could not measure and names OOM kills', () => {
    const line = formatStatsLine({ ...stats, memoryPeakBytes: null, memoryCurrentBytes: null, pidsPeak: null, oomKills: 2 }, 10);
    expect(line).toBe('wall 0.01s, cpu 0.85s (user 0.80s, system 0.05s), io read 1.0MiB written 0B, OOM kills 2');
    expect(line).not.toContain('\n');
  });

  it('makes a JSON record with the wall time', () => {
    expect(JSON.parse(JSON.stringify(statsRecord(stats, 1203.4)))).toEqual({ wallMs: 1203, ...stats });
  });
});
