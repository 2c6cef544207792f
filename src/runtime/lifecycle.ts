/**
 * A run with a record: what `ps`, `inspect`, `exec`, `stop`... see of it. The record is
 * created before anything else (so a taken name fails first), follows the run (running
 * with its pid, exited with its status), and is removed at the end of an ephemeral run,
 * or kept (-d, --name) until `tsbox rm`. A failed start leaves no record: nothing ran.
 */
import { writeFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { splitRunSpec, type RunSpec } from '../spec/run-spec.js';
import { serializeConfigFile } from '../container/config-file.js';
import { runContainer, type RunHooks, type RunResult } from './run.js';
import type { ContainerRecord } from './state/record.js';
import { StateStore, type OwnedEntry } from './state/store.js';

export interface TrackedRunOptions {
  /** The record, when another process created it (a detached container's front end). */
  entry?: OwnedEntry;
  onStarted?: (pid: number) => void;
  /** tsbox create: hold the created container until this resolves (RunHooks.holdUntilStart). */
  holdUntilStart?: RunHooks['holdUntilStart'];
  /** Stop the run (the API's timeout and AbortSignal; see RunHooks.abort). */
  abort?: AbortSignal;
  /**
   * After the container exited, before its record says so (or is removed with --rm): what
   * must be in place for someone who waits on the record (`tsbox wait`, `ps`), such as a
   * detached run's --stats-file.
   */
  onExited?: (result: RunResult) => void | Promise<void>;
  /** Record the container's output in its log even when the container is not kept (--rm under a monitor). */
  recordOutput?: boolean;
}

export function newRecord(spec: RunSpec): ContainerRecord {
  return {
    version: 1,
    id: spec.id,
    shortId: spec.shortId,
    name: spec.name,
    command: spec.process.args,
    rootfs: spec.rootfs.source,
    imageDigest: null,
    created: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    status: 'created',
    pid: null,
    ownerPid: process.pid,
    exitCode: null,
    oomKilled: false,
    error: null,
    detached: spec.detach,
    keep: spec.keep,
    tty: spec.tty,
    init: spec.init,
    cgroup: null,
    labels: spec.labels ?? {},
  };
}

/** Create the record and write the spec beside it (exec and inspect read it). */
export function createEntry(spec: RunSpec, opts: { reuse?: boolean } = {}): OwnedEntry {
  const entry = new StateStore(spec.stateDir).create(newRecord(spec), opts);
  try {
    const { config, invocation } = splitRunSpec(spec);
    writeFileSync(entry.paths.spec, serializeConfigFile(config, invocation), { mode: 0o600 });
  } catch (err) {
    entry.remove();
    throw err;
  }
  return entry;
}

export async function runTracked(spec: RunSpec, log: Logger, opts: TrackedRunOptions = {}): Promise<RunResult> {
  const entry = opts.entry ?? createEntry(spec);
  let result: RunResult;
  try {
    result = await runContainer(spec, log, {
      // A kept container's output is recorded for `tsbox logs` (timestamped, rotated: output-log.ts).
      outputLog: spec.keep || opts.recordOutput === true ? entry.paths : undefined,
      abort: opts.abort,
      holdUntilStart: opts.holdUntilStart,
      onStarted: (s) => {
        entry.update({ status: 'running', pid: s.pid, ownerPid: process.pid, startedAt: new Date().toISOString(), cgroup: s.cgroup, imageDigest: s.imageDigest, ports: s.ports.map(({ proto, hostIp, hostPort, containerPort }) => ({ proto, ...(hostIp ? { hostIp } : {}), hostPort, containerPort })), ip: s.ip });
        opts.onStarted?.(s.pid);
      },
    });
  } catch (err) {
    try {
      entry.remove();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'could not remove the record of a failed run');
    }
    throw err;
  }
  await opts.onExited?.(result);
  if (spec.keep) {
    entry.update({ status: 'exited', pid: null, exitCode: result.exitCode, oomKilled: result.oomKilled, finishedAt: new Date().toISOString() });
    entry.release();
  } else {
    entry.remove();
  }
  return result;
}
