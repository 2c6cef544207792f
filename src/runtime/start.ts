/**
 * OCI start and docker's restart, on the container model:
 *
 *   created  its monitor holds the init before exec: ask it to start (start-socket.ts)
 *   stopped  a new life with the same id, name, config and log: a new monitor, a new init
 *            (docker's `start` of an exited container does the same)
 *   running  start refuses (container/status.ts); restart stops it first
 */
import { readConfigFile } from '../container/config-file.js';
import { assertCan, statusOf } from '../container/status.js';
import { TsboxError, UsageError } from '../errors.js';
import type { RunSpec } from '../spec/run-spec.js';
import { isHeld, label, stopContainer } from './control.js';
import { requestStart, type Attachment } from './start-socket.js';
import { reclaimDeadRuns } from './gc.js';
import { createLogger, type ExplainFormat } from '../log.js';
import { relayLog } from './explain-relay.js';
import { writeSync } from 'node:fs';
import type { ContainerRecord } from './state/record.js';
import type { StateStore } from './state/store.js';

/**
 * `attach` (tsbox start -a): a held container's monitor then tells how the command ended on
 * the start connection and keeps a --rm container until the caller hangs up (start-socket.ts).
 */
export async function startContainer(store: StateStore, r: ContainerRecord, opts: { attach?: boolean; explain?: ExplainFormat } = {}): Promise<{ pid: number; attachment?: Attachment }> {
  const current = store.read(r.shortId) ?? r;
  if (isHeld(store, current)) {
    // --explain: a monitor made by `create --explain` explains the start into monitor.log.
    const explained = opts.explain ? relayLog(store.paths(r.shortId).monitorLog) : null;
    const reply = await requestStart(store.paths(r.shortId).startSocket, label(r), opts.attach ?? false);
    if (explained && !explained.copyTo()) {
      writeSync(2, `tsbox: --explain: container ${label(r)} was created without --explain, so its monitor does not explain; tsbox create --explain explains its setup and start.\n`);
    }
    if (reply.t === 'error') throw new TsboxError(reply.message, { step: reply.step, hint: reply.hint, exitCode: reply.exitCode });
    return { pid: reply.pid, attachment: reply.attachment };
  }
  const alive = store.ownerAlive(r.shortId);
  const status = current.status === 'exited' || !alive ? 'stopped' : statusOf(current.status);
  assertCan('start', status === 'stopped' ? 'created' : status, label(r)); // a stopped one starts anew, below
  return startAgain(store, current, opts.explain);
}

/** docker restart: stop (SIGTERM, then SIGKILL after timeoutS), then start with the same config. */
export async function restartContainer(store: StateStore, r: ContainerRecord, timeoutS: number): Promise<{ pid: number }> {
  const current = store.read(r.shortId) ?? r;
  if (isHeld(store, current)) return startContainer(store, current);
  const stopped = await stopContainer(store, current, timeoutS);
  if (store.read(r.shortId) === null) throw new UsageError(`container ${label(r)} was removed as it stopped (--rm)`, { hint: 'Run it again with tsbox run.' });
  return startAgain(store, stopped);
}

async function startAgain(store: StateStore, r: ContainerRecord, explain?: ExplainFormat): Promise<{ pid: number }> {
  const spec = readSpec(store, r);
  if (spec.tty) throw new UsageError(`container ${label(r)} was run with -t: starting it again in the background would leave its terminal to no one`, { hint: 'Run a new one with tsbox run -t.' });
  // Its previous holder may have been killed (SIGKILL): what that life left under the same
  // id (directory, cgroup) is released first, or the new life could not take its place.
  await reclaimDeadRuns(spec.root, createLogger(spec.log.level, spec.log.format, { container: spec.shortId }));
  const { startDetached } = await import('./detach.js');
  const again: RunSpec = { ...spec, ...(explain ? { log: { ...spec.log, explain }, debug: true } : {}), detach: true, keep: true, stdio: ['ignore', 'ignore', 'ignore'] };
  const started = await startDetached(again, { reuse: true });
  return { pid: started.pid };
}

function readSpec(store: StateStore, r: ContainerRecord): RunSpec {
  try {
    return readConfigFile(store.paths(r.shortId).spec);
  } catch (err) {
    throw new TsboxError(`cannot read the config of container ${label(r)}: ${(err as Error).message}`, { step: 'start', hint: 'It was made by an older tsbox; run a new one.' });
  }
}
