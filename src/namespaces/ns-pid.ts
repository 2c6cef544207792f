/**
 * A process's pid as its own PID namespace numbers it: the last field of the NSpid line of
 * /proc/PID/status (one field per nested namespace, outermost first). A container's init is
 * 1 in a PID namespace of its own, but not with --pid host (its host pid) or --pid
 * container:NAME (a pid of NAME's namespace): `tsbox exec` checks its root through it.
 */
import { readFileSync } from 'node:fs';

/** Pure: the innermost pid of an NSpid line, or null if the status has none. */
export function innermostPid(status: string): number | null {
  const line = status.split('\n').find((l) => l.startsWith('NSpid:'));
  const last = line?.trim().split(/\s+/).at(-1);
  return last !== undefined && /^\d+$/.test(last) ? Number(last) : null;
}

/** Read it for a host pid; 1 when it cannot be read (a kernel before 4.1 has no NSpid: the old rule). */
export function pidInOwnNamespace(hostPid: number): number {
  try {
    return innermostPid(readFileSync(`/proc/${hostPid}/status`, 'utf8')) ?? 1;
  } catch {
    return 1;
  }
}
