/**
 * Acting on recorded containers from another tsbox process: signalling, waiting for the
 * end, removing, reading logs. The container's owner (foreground tsbox or monitor) does
 * the teardown and records the exit; these only signal and watch.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsboxError, UsageError } from '../errors.js';
import { readContainerLog } from './log-reader.js';
import type { ContainerRecord } from './state/record.js';
import type { StateStore } from './state/store.js';
import { waitOnMonitor } from './wait-socket.js';

const POLL_MS = 50;

export function label(r: ContainerRecord): string {
  return r.name ?? r.shortId;
}

export function isRunning(store: StateStore, r: ContainerRecord): boolean {
  return r.status === 'running' && r.pid !== null && store.ownerAlive(r.shortId);
}

/** Created (tsbox create), its init held by its monitor until `tsbox start`. */
export function isHeld(store: StateStore, r: ContainerRecord): boolean {
  return r.status === 'created' && r.pid !== null && store.ownerAlive(r.shortId);
}

/** Send a signal to the container's PID 1. Refuses a container that does not run. */
export function signalContainer(store: StateStore, r: ContainerRecord, signal: NodeJS.Signals | number): void {
  const current = store.read(r.shortId) ?? r;
  // OCI: kill reaches a created container too (its held init dies; its monitor then removes it).
  if (!isRunning(store, current) && !isHeld(store, current)) {
    throw new UsageError(`container ${label(r)} is not running`, { hint: current.status === 'created' ? 'It is still starting; try again.' : "See 'tsbox ps -a'." });
  }
  try {
    process.kill(current.pid!, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw new UsageError(`container ${label(r)} is not running`);
    throw err;
  }
}

/** Resolve with the record once the container exited (its owner recorded it, or died). Null on timeout. */
export async function waitForExit(store: StateStore, shortId: string, timeoutMs = Infinity): Promise<ContainerRecord | null> {
  const deadline = Date.now() + timeoutMs;
  for (let asked = false; ; ) {
    const r = store.read(shortId);
    // A --rm container's record goes as it exits: its monitor tells the status (wait-socket.ts).
    if (r !== null && r.status !== 'exited' && !asked && timeoutMs === Infinity && existsSync(store.paths(shortId).waitSocket)) {
      asked = true;
      const exitCode = await waitOnMonitor(store.paths(shortId).waitSocket);
      if (exitCode !== null) return { ...r, status: 'exited', pid: null, exitCode };
      continue;
    }
    if (r === null) throw new UsageError(`container ${shortId} was removed while waiting for it (a --rm container keeps no exit status)`);
    if (r.status === 'exited') return r;
    if (!store.ownerAlive(shortId)) {
      // The owner died (or just finished): let list() record it, then read again.
      store.list();
      const again = store.read(shortId);
      if (again?.status === 'exited') return again;
    }
    if (Date.now() >= deadline) return null;
    await sleep(POLL_MS);
  }
}

/** waitForExit for stop: a --rm container's monitor removes its record as it exits, and for stop that is "stopped". */
async function waitForStop(store: StateStore, r: ContainerRecord, timeoutMs: number): Promise<ContainerRecord | null> {
  try {
    return await waitForExit(store, r.shortId, timeoutMs);
  } catch (err) {
    if (err instanceof UsageError && store.read(r.shortId) === null) return { ...r, status: 'exited', pid: null };
    throw err;
  }
}

/** docker stop: SIGTERM, up to timeoutS seconds, then SIGKILL. A stopped container is fine. */
export async function stopContainer(store: StateStore, r: ContainerRecord, timeoutS: number): Promise<ContainerRecord> {
  // docker: stopping a container that never started leaves it created.
  if (isHeld(store, store.read(r.shortId) ?? r)) return store.read(r.shortId) ?? r;
  if (!isRunning(store, store.read(r.shortId) ?? r)) return (await waitForStop(store, r, Infinity))!;
  try {
    signalContainer(store, r, 'SIGTERM');
  } catch {
    // exited in between
  }
  const ended = await waitForStop(store, r, timeoutS * 1000);
  if (ended) return ended;
  try {
    signalContainer(store, r, 'SIGKILL');
  } catch {
    // exited in between
  }
  const killed = await waitForStop(store, r, 30_000);
  if (!killed) throw new TsboxError(`container ${label(r)} did not exit 30 s after SIGKILL`);
  return killed;
}

/** docker rm: refuses a running container unless forced (then SIGKILL, wait, remove). */
export async function removeContainer(store: StateStore, r: ContainerRecord, force: boolean): Promise<void> {
  const current = store.read(r.shortId) ?? r;
  // docker removes a created container without -f: nothing ran. Its held init is killed;
  // its monitor sees that, releases what the container held (container/resources.ts) and
  // removes the record.
  if (isHeld(store, current)) {
    try {
      process.kill(current.pid!, 'SIGKILL');
    } catch {
      // gone meanwhile: the wait below covers it
    }
    if (!(await waitForStop(store, r, 30_000))) throw new TsboxError(`container ${label(r)} did not exit after SIGKILL`);
    if (store.read(r.shortId) === null) return;
  } else if (isRunning(store, current) || (current.status !== 'exited' && store.ownerAlive(r.shortId))) {
    if (!force) throw new UsageError(`container ${label(r)} is running`, { hint: `Stop it first (tsbox stop ${label(r)}), or use tsbox rm -f.` });
    try {
      signalContainer(store, current, 'SIGKILL');
    } catch {
      // exited in between, or still starting: the wait below covers both
    }
    if (!(await waitForStop(store, r, 30_000))) throw new TsboxError(`container ${label(r)} did not exit after SIGKILL`);
    if (store.read(r.shortId) === null) return; // --rm: its monitor removed it as it exited
  }
  store.remove(r.shortId);
}

export interface LogOptions {
  follow: boolean;
  tail: number | null;
  /** Nanoseconds since the epoch (--since, --until); null: no bound. */
  since?: bigint | null;
  until?: bigint | null;
  timestamps?: boolean;
  /** attach: only what the container writes from now on. */
  fromNow?: boolean;
  /** Stop following early (attach --no-sig-proxy and Ctrl-C). */
  finished?: () => boolean;
}

/** Print a kept container's log (stdout lines to fd 1, stderr to fd 2); with follow, until it exits. */
export async function printLogs(store: StateStore, r: ContainerRecord, opts: LogOptions): Promise<void> {
  const finished = () => opts.finished?.() === true || (store.read(r.shortId)?.status ?? 'exited') === 'exited' || !store.ownerAlive(r.shortId);
  await readContainerLog(store.paths(r.shortId).log, { follow: opts.follow, tail: opts.tail, since: opts.since ?? null, until: opts.until ?? null, timestamps: opts.timestamps ?? false, fromNow: opts.fromNow }, finished);
}
