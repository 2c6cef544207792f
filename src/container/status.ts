/**
 * A container's status, with OCI's names (runtime-spec runtime.md), and what may be done to
 * it in each. Pure: the table is the single answer to "may I start/kill/delete/exec it now?",
 * asked by the CLI commands before they act and unit-tested without root.
 *
 *   creating  its directory and resources are being acquired; its init is not yet held
 *   created   everything is set up; the init is held before exec, waiting for `start`
 *   running   the user's command runs (the init exec'd it)
 *   stopped   the command exited (or was killed, or its holder died)
 *
 * The persisted record (runtime/state/record.ts) says docker's words (created, running,
 * exited) and OCI's creating: `statusOf` reads them as OCI's.
 */
import { UsageError } from '../errors.js';

export type Status = 'creating' | 'created' | 'running' | 'stopped';

export type Operation = 'start' | 'kill' | 'delete' | 'exec' | 'restart' | 'wait';

/** Which statuses each operation accepts (delete accepts any with force: it kills first). */
export const ALLOWED: Readonly<Record<Operation, readonly Status[]>> = {
  // OCI: start only a created container; its init is the one held before exec.
  start: ['created'],
  // OCI: kill a created or running container (a held init dies as well as a running one).
  kill: ['created', 'running'],
  // OCI: delete a stopped one; docker also removes a created one (nothing ran: nothing to lose).
  delete: ['created', 'stopped'],
  // docker refuses exec into a container that has not started: there is no command to join.
  exec: ['running'],
  // stop (if running) and start again with the same config: a new init.
  restart: ['created', 'running', 'stopped'],
  // waiting on one being created waits for it to run and end as well.
  wait: ['creating', 'created', 'running', 'stopped'],
};

export function can(op: Operation, status: Status, opts: { force?: boolean } = {}): boolean {
  if (op === 'delete' && opts.force) return true;
  return ALLOWED[op].includes(status);
}

/** The one-line refusal, in docker's words where docker has them. */
export function assertCan(op: Operation, status: Status, who: string, opts: { force?: boolean } = {}): void {
  if (can(op, status, opts)) return;
  const hints: Partial<Record<Operation, string>> = {
    start: status === 'running' ? 'It already runs.' : status === 'creating' ? 'It is still being created; try again.' : 'Create a new one (tsbox create), or restart it (tsbox restart).',
    kill: "See 'tsbox ps -a'.",
    delete: 'Stop it first, or use rm -f.',
    exec: status === 'created' ? `Start it first (tsbox start ${who}).` : "See 'tsbox ps -a'.",
  };
  throw new UsageError(`cannot ${op} container ${who}: it is ${status}`, { hint: hints[op] ?? "See 'tsbox ps -a'." });
}

/** The record's docker-worded status as OCI's. */
export function statusOf(recordStatus: 'creating' | 'created' | 'running' | 'exited'): Status {
  return recordStatus === 'exited' ? 'stopped' : recordStatus;
}
