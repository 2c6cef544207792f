/**
 * Who holds a lease: the container id and a process whose death ends the lease. pid + the
 * process's start time (field 22 of /proc/PID/stat) so a recycled pid is not mistaken for
 * the owner. Reading /proc is the liveness check; no signal is sent.
 */
import { readFileSync } from 'node:fs';

export interface LeaseOwner {
  containerId: string;
  pid: number;
  startTime: string;
}

/** Parse /proc/PID/stat's start time: fields after the last ')' (the comm may contain spaces). */
export function startTimeFromStat(stat: string): string | null {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19] ?? null; // field 22; `rest` starts at field 3
}

export function processStartTime(pid: number): string | null {
  try {
    return startTimeFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

export function ownerFor(containerId: string, pid = process.pid): LeaseOwner {
  const startTime = processStartTime(pid);
  if (startTime === null) throw new Error(`process ${pid} does not exist`);
  return { containerId, pid, startTime };
}

export function ownerAlive(o: LeaseOwner): boolean {
  return processStartTime(o.pid) === o.startTime;
}
