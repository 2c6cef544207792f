/**
 * Reading what a container used: parsers for the cgroup v2 stat files (pure), the one-line
 * summary for --stats (pure), and the reader that puts them together.
 */
import { join } from 'node:path';
import type { CgroupFs } from './cgroupfs.js';
import { formatBytes } from './size.js';

export interface CgroupStats {
  cpuUserUs: number;
  cpuSystemUs: number;
  /** null when the memory controller is not enabled for the group (or the kernel lacks memory.peak, before 5.19). */
  memoryPeakBytes: number | null;
  memoryCurrentBytes: number | null;
  /** null when the pids controller is not enabled or the kernel lacks pids.peak. */
  pidsPeak: number | null;
  oomKills: number;
  ioReadBytes: number;
  ioWriteBytes: number;
}

/** "key value" lines (cpu.stat, memory.events, memory.stat) into a map; other lines are skipped. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (key && value !== undefined && extra === undefined && /^\d+$/.test(value)) values.set(key, Number(value));
  }
  return values;
}

export interface CpuStat {
  usageUs: number;
  userUs: number;
  systemUs: number;
}

export function parseCpuStat(text: string): CpuStat {
  const v = parseFlatKeyed(text);
  return { usageUs: v.get('usage_usec') ?? 0, userUs: v.get('user_usec') ?? 0, systemUs: v.get('system_usec') ?? 0 };
}

export interface MemoryEvents {
  low: number;
  high: number;
  max: number;
  oom: number;
  oomKill: number;
}

/** memory.events: counted for the group and its descendants (unlike memory.events.local). */
export function parseMemoryEvents(text: string): MemoryEvents {
  const v = parseFlatKeyed(text);
  return { low: v.get('low') ?? 0, high: v.get('high') ?? 0, max: v.get('max') ?? 0, oom: v.get('oom') ?? 0, oomKill: v.get('oom_kill') ?? 0 };
}

export interface IoStat {
  readBytes: number;
  writeBytes: number;
}

/** io.stat: one line per device, "8:0 rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"; summed. */
export function parseIoStat(text: string): IoStat {
  const total = { readBytes: 0, writeBytes: 0 };
  for (const line of text.split('\n')) {
    for (const pair of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = pair.split('=');
      if (value === undefined || !/^\d+$/.test(value)) continue;
      if (key === 'rbytes') total.readBytes += Number(value);
      if (key === 'wbytes') total.writeBytes += Number(value);
    }
  }
  return total;
}

/** A single number file (memory.peak, pids.peak); "max" and junk read as null. */
export function parseSingleValue(text: string): number | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

function readOptional(fs: CgroupFs, path: string): string | null {
  try {
    return fs.read(path);
  } catch {
    // A controller that is not enabled for the group has no files there.
    return null;
  }
}

export function readCgroupStats(fs: CgroupFs, dir: string): CgroupStats {
  const text = (file: string) => readOptional(fs, join(dir, file));
  const value = (file: string) => {
    const t = text(file);
    return t === null ? null : parseSingleValue(t);
  };
  const cpu = parseCpuStat(text('cpu.stat') ?? '');
  const io = parseIoStat(text('io.stat') ?? '');
  return {
    cpuUserUs: cpu.userUs,
    cpuSystemUs: cpu.systemUs,
    memoryPeakBytes: value('memory.peak'),
    memoryCurrentBytes: value('memory.current'),
    pidsPeak: value('pids.peak'),
    oomKills: parseMemoryEvents(text('memory.events') ?? '').oomKill,
    ioReadBytes: io.readBytes,
    ioWriteBytes: io.writeBytes,
  };
}

const seconds = (us: number) => `${(us / 1e6).toFixed(2)}s`;

/**
 * The --stats line: "wall 1.20s, cpu 0.85s (user 0.80s, system 0.05s), memory peak 12MiB,
 * pids peak 4, io read 1.0MiB written 0B". Parts the host could not measure are left out;
 * OOM kills are named only when there were some.
 */
export function formatStatsLine(stats: CgroupStats, wallMs: number): string {
  const parts = [
    `wall ${seconds(wallMs * 1000)}`,
    `cpu ${seconds(stats.cpuUserUs + stats.cpuSystemUs)} (user ${seconds(stats.cpuUserUs)}, system ${seconds(stats.cpuSystemUs)})`,
  ];
  if (stats.memoryPeakBytes !== null) parts.push(`memory peak ${formatBytes(stats.memoryPeakBytes)}`);
  else if (stats.memoryCurrentBytes !== null) parts.push(`memory ${formatBytes(stats.memoryCurrentBytes)}`);
  if (stats.pidsPeak !== null) parts.push(`pids peak ${stats.pidsPeak}`);
  parts.push(`io read ${formatBytes(stats.ioReadBytes)} written ${formatBytes(stats.ioWriteBytes)}`);
  if (stats.oomKills > 0) parts.push(`OOM kills ${stats.oomKills}`);
  return parts.join(', ');
}

/** The --stats-file document: the stats plus the wall time, one JSON object. */
export function statsRecord(stats: CgroupStats, wallMs: number): CgroupStats & { wallMs: number } {
  return { wallMs: Math.round(wallMs), ...stats };
}
