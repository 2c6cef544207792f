/**
 * Reading what a container used: parsers for the cgroup v2 stat files (pure), the one-line
 * summary for --stats (pure), and the reader that puts them together.
 */
import { join } from 'node:path';
import type { CgroupFs } from './cgroupfs.js';
import { formatBytes } from './size.js';

/**
 * What a container used. Every field is null when it was not measured (the file that
 * holds it is missing: controller not enabled, kernel too old, or no cgroup at all), so
 * that "nothing measured" never reads as "used nothing".
 */
export interface CgroupStats {
  /** null when cpu.stat could not be read. */
  cpuUserUs: number | null;
  cpuSystemUs: number | null;
  /** null when the memory controller is not enabled for the group (or the kernel lacks memory.peak, before 5.19). */
  memoryPeakBytes: number | null;
  memoryCurrentBytes: number | null;
  /** null when the pids controller is not enabled or the kernel lacks pids.peak. */
  pidsPeak: number | null;
  /** null when the memory controller is not enabled (no memory.events). */
  oomKills: number | null;
  /** null when the io controller is not enabled (no io.stat). */
  ioReadBytes: number | null;
  ioWriteBytes: number | null;
}

/** The report of a run that had no cgroup to measure: nothing is known. */
export const UNMEASURED: CgroupStats = {
  cpuUserUs: null,
  cpuSystemUs: null,
  memoryPeakBytes: null,
  memoryCurrentBytes: null,
  pidsPeak: null,
  oomKills: null,
  ioReadBytes: null,
  ioWriteBytes: null,
};

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
  const cpuText = text('cpu.stat');
  const cpu = cpuText === null ? null : parseCpuStat(cpuText);
  const ioText = text('io.stat');
  const io = ioText === null ? null : parseIoStat(ioText);
  const events = text('memory.events');
  return {
    cpuUserUs: cpu?.userUs ?? null,
    cpuSystemUs: cpu?.systemUs ?? null,
    memoryPeakBytes: value('memory.peak'),
    memoryCurrentBytes: value('memory.current'),
    pidsPeak: value('pids.peak'),
    oomKills: events === null ? null : parseMemoryEvents(events).oomKill,
    ioReadBytes: io?.readBytes ?? null,
    ioWriteBytes: io?.writeBytes ?? null,
  };
}

/** How the text reports show a value that was not measured. */
export const NOT_MEASURED = 'n/a';

const seconds = (us: number | null) => (us === null ? NOT_MEASURED : `${(us / 1e6).toFixed(2)}s`);
const bytes = (n: number | null) => (n === null ? NOT_MEASURED : formatBytes(n));

/**
 * The --stats line: "wall 1.20s, cpu 0.85s (user 0.80s, system 0.05s), memory peak 12MiB,
 * pids peak 4, io read 1.0MiB written 0B". What the host could not measure reads "n/a"
 * (never 0); OOM kills are named when there were some or when they could not be counted.
 * `stats` is null for a run that had no cgroup.
 */
export function formatStatsLine(stats: CgroupStats | null, wallMs: number): string {
  const s = stats ?? UNMEASURED;
  const cpu =
    s.cpuUserUs === null || s.cpuSystemUs === null
      ? `cpu ${NOT_MEASURED}`
      : `cpu ${seconds(s.cpuUserUs + s.cpuSystemUs)} (user ${seconds(s.cpuUserUs)}, system ${seconds(s.cpuSystemUs)})`;
  const parts = [`wall ${seconds(wallMs * 1000)}`, cpu];
  if (s.memoryPeakBytes === null && s.memoryCurrentBytes !== null) parts.push(`memory ${formatBytes(s.memoryCurrentBytes)}`);
  else parts.push(`memory peak ${bytes(s.memoryPeakBytes)}`);
  parts.push(`pids peak ${s.pidsPeak ?? NOT_MEASURED}`);
  parts.push(`io read ${bytes(s.ioReadBytes)} written ${bytes(s.ioWriteBytes)}`);
  if (s.oomKills === null) parts.push(`OOM kills ${NOT_MEASURED}`);
  else if (s.oomKills > 0) parts.push(`OOM kills ${s.oomKills}`);
  return parts.join(', ');
}

/** The --stats-file document: the stats plus the wall time, one JSON object; null for what was not measured. */
export function statsRecord(stats: CgroupStats | null, wallMs: number): CgroupStats & { wallMs: number } {
  return { wallMs: Math.round(wallMs), ...(stats ?? UNMEASURED) };
}
