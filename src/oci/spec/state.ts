/**
 * The runtime-spec's state of a container (runtime.md "State"): what `state ID` prints and
 * what every hook reads on stdin. Pure, on tsbox's own status (container/status.ts), plus
 * 'paused', which the runtime-spec's runc-compatible CLI reports for a frozen container.
 */
import type { Status } from '../../container/status.js';
import { OCI_VERSION } from './version.js';

export type OciStatus = Status | 'paused';

export interface OciState {
  ociVersion: string;
  id: string;
  status: OciStatus;
  /** The container's init as seen from the runtime's pid namespace; absent once stopped. */
  pid?: number;
  /** Absolute path of the bundle directory. */
  bundle: string;
  annotations?: Record<string, string>;
}

export interface OciStateInput {
  id: string;
  status: OciStatus;
  /** null or 0 when there is no process (stopped, or creating before the init exists). */
  pid: number | null;
  bundle: string;
  annotations?: Readonly<Record<string, string>> | null;
}

/**
 * The spec: pid is REQUIRED when created or running (and paused: the process exists),
 * and means nothing once stopped; annotations are there when the config had any.
 */
export function buildOciState(input: OciStateInput): OciState {
  if (!input.bundle.startsWith('/')) throw new Error(`internal: the bundle path must be absolute, not '${input.bundle}'`);
  const hasProcess = input.status === 'created' || input.status === 'running' || input.status === 'paused';
  if (hasProcess && !(input.pid !== null && input.pid > 0)) throw new Error(`internal: a ${input.status} container must have a pid`);
  const withPid = input.pid !== null && input.pid > 0 && input.status !== 'stopped';
  const state: OciState = { ociVersion: OCI_VERSION, id: input.id, status: input.status, ...(withPid ? { pid: input.pid! } : {}), bundle: input.bundle };
  if (input.annotations && Object.keys(input.annotations).length > 0) state.annotations = { ...input.annotations };
  return state;
}

/** The state as JSON text, for `state ID` (pretty, as runc prints it) or a hook's stdin (one line). */
export function formatOciState(state: OciState, pretty = false): string {
  return pretty ? `${JSON.stringify(state, null, 2)}\n` : JSON.stringify(state);
}
