/**
 * A container's status, read from the kernel each time (nothing keeps it up to date: no
 * tsbox process stays with the container): its init alive and still the same process (its
 * start time), not a zombie its parent has yet to reap, held at the exec fifo, frozen.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../../container/process-start.js';
import type { ContainerRecord, StateRoot } from './state-dir.js';
import { buildOciState } from '../spec/state.js';

export type OciStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** The record's init, if it is still that process and not a zombie. */
export function initAlive(r: ContainerRecord): boolean {
  if (processStartTime(r.pid) !== r.pidStartTime) return false;
  try {
    const stat = readFileSync(`/proc/${r.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function statusOf(state: StateRoot, r: ContainerRecord): OciStatus {
  if (!initAlive(r)) return 'stopped';
  if (r.creating) return 'creating';
  if (existsSync(state.fifo(r.id))) return 'created';
  if (r.cgroup && frozen(r.cgroup)) return 'paused';
  return 'running';
}

function frozen(cgroup: string): boolean {
  try {
    return readFileSync(join(cgroup, 'cgroup.freeze'), 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** `state ID`'s output. */
export function stateJson(state: StateRoot, id: string): string {
  return JSON.stringify(stateDocument(state, state.read(id)), null, 2);
}

/** The runtime-spec's state document (src/oci/spec), with runc's extra fields engines read (created). */
export function stateDocument(state: StateRoot, r: ContainerRecord): object {
  const status = statusOf(state, r);
  // pid 0 once stopped, as runc prints it (go-runc reads the field as a number either way).
  return { pid: 0, ...buildOciState({ id: r.id, status, pid: r.pid, bundle: r.bundle, annotations: r.annotations }), rootfs: r.rootfs, created: r.created, owner: '' };
}
