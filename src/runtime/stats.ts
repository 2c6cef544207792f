/**
 * `tsbox stats`: samples of each running container's cgroup. A container without a
 * cgroup (hosts without a writable cgroup v2) has no numbers to show: "n/a".
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { openContainerCgroup } from '../cgroups/index.js';
import { parseCpuStat, parseSingleValue } from '../cgroups/stats.js';
import { silentLogger } from '../log.js';
import { parseLimit, type StatsSample } from './stats-table.js';

/**
 * eth0's bytes of a running container with an address of its own (bridge or a user network);
 * null otherwise (none, host, container:, or it exited meanwhile). Loads the network code
 * only then.
 */
export async function sampleNetwork(r: { pid: number | null; ip?: string | null }): Promise<{ rxBytes: number; txBytes: number } | null> {
  if (r.pid === null || !r.ip) return null;
  const { openNetns, linkStats, closeFd } = await import('../network/links.js');
  let fd: number;
  try {
    fd = openNetns(r.pid);
  } catch {
    return null;
  }
  try {
    return linkStats(fd, 'eth0');
  } catch {
    return null;
  } finally {
    closeFd(fd);
  }
}

export function sampleCgroup(path: string | null): StatsSample | null {
  if (path === null) return null;
  const read = (file: string) => {
    try {
      return readFileSync(join(path, file), 'utf8');
    } catch {
      return null; // controller not enabled, or the group went away with its container
    }
  };
  const usage = read('cpu.stat');
  if (usage === null) return null;
  const stats = openContainerCgroup(path, silentLogger, undefined, null).readStats();
  const limit = read('memory.max');
  const pids = read('pids.current');
  // tsbox enables the memory and pids controllers only for containers with such limits.
  // Without them: the group's tasks (what pids.current counts), and the resident memory of
  // its processes (shared pages counted in each: an upper bound of memory.current).
  const threads = read('cgroup.threads');
  return {
    atMs: performance.now(),
    cpuUsageUs: parseCpuStat(usage).usageUs,
    memoryBytes: stats.memoryCurrentBytes ?? residentBytes(read('cgroup.procs')),
    memoryLimitBytes: limit === null ? totalmem() : parseLimit(limit, totalmem()),
    pids: pids !== null ? parseSingleValue(pids) : threads === null ? null : countLines(threads),
  };
}

function countLines(text: string): number {
  return text.split('\n').filter((l) => l.trim() !== '').length;
}

/** The sum of the resident set sizes (/proc/PID/statm, field 2, in pages) of the listed pids. */
function residentBytes(procs: string | null): number | null {
  if (procs === null) return null;
  let pages = 0;
  for (const pid of procs.split('\n').filter((l) => /^\d+$/.test(l.trim()))) {
    try {
      pages += Number(readFileSync(`/proc/${pid.trim()}/statm`, 'utf8').split(' ')[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return pages * PAGE_BYTES;
}

/** x86_64's page size; tsbox's syscall tables are x86_64-only too. */
const PAGE_BYTES = 4096;
