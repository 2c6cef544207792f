/**
 * `tsbox stats`, the pure part: CPU % from two samples of cpu.stat, and the table. CPU %
 * is docker's: CPU time used over wall time elapsed, so a container busy on two CPUs
 * shows 200%.
 */
import { formatBytes } from '../cgroups/size.js';
import { NOT_MEASURED } from '../cgroups/stats.js';

export interface StatsSample {
  /** When it was taken, in ms of a monotonic clock. */
  atMs: number;
  /** usage_usec of cpu.stat (user + system). */
  cpuUsageUs: number;
  memoryBytes: number | null;
  /** memory.max, or the host's memory when the group has no limit ("max"). */
  memoryLimitBytes: number | null;
  pids: number | null;
}

export interface StatsRow {
  id: string;
  name: string;
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  memoryPercent: number | null;
  /** eth0's bytes (network/links.ts linkStats); null where not measured (--network none, host, container:). */
  netRxBytes: number | null;
  netTxBytes: number | null;
  pids: number | null;
}

/** null without a previous sample or when no time passed; never negative (a restarted counter). */
export function cpuPercent(prev: StatsSample | null, next: StatsSample): number | null {
  if (prev === null) return null;
  const wallUs = (next.atMs - prev.atMs) * 1000;
  if (wallUs <= 0) return null;
  return Math.max(0, ((next.cpuUsageUs - prev.cpuUsageUs) / wallUs) * 100);
}

export function statsRow(id: string, name: string, prev: StatsSample | null, next: StatsSample, net: { rxBytes: number; txBytes: number } | null = null): StatsRow {
  const memoryPercent = next.memoryBytes !== null && next.memoryLimitBytes ? (next.memoryBytes / next.memoryLimitBytes) * 100 : null;
  return { id, name, cpuPercent: cpuPercent(prev, next), memoryBytes: next.memoryBytes, memoryLimitBytes: next.memoryLimitBytes, memoryPercent, netRxBytes: net?.rxBytes ?? null, netTxBytes: net?.txBytes ?? null, pids: next.pids };
}

const pct = (v: number | null) => (v === null ? NOT_MEASURED : `${v.toFixed(2)}%`);
const bytes = (v: number | null) => (v === null ? NOT_MEASURED : formatBytes(v));

export function formatStatsTable(rows: readonly StatsRow[]): string {
  const table = [['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'PIDS']];
  for (const r of rows) {
    table.push([r.id.slice(0, 12), r.name, pct(r.cpuPercent), `${bytes(r.memoryBytes)} / ${bytes(r.memoryLimitBytes)}`, pct(r.memoryPercent), r.netRxBytes === null || r.netTxBytes === null ? NOT_MEASURED : `${bytes(r.netRxBytes)} / ${bytes(r.netTxBytes)}`, r.pids === null ? NOT_MEASURED : String(r.pids)]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n');
}

/** "max" (no limit) or a number of bytes. */
export function parseLimit(text: string, unlimited: number): number | null {
  const t = text.trim();
  if (t === 'max') return unlimited;
  return /^\d+$/.test(t) ? Number(t) : null;
}
