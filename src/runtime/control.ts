/**
 * Acting on recorded containers from another tsbox process: signalling, waiting for the
 * end, removing, reading logs. The container's owner (foreground tsbox or monitor) does
 * the teardown and records the exit; these only signal and watch.
 */
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsboxError, UsageError } from '../errors.js';
import { tailLines, type ContainerRecord } from './state/record.js';
import type { StateStore } from './state/store.js';

const POLL_MS = 50;

export function label(r: ContainerRecord): string {
  return r.name ?? r.shortId;
}

export function isRunning(store: StateStore, r: ContainerRecord): boolean {
  return r.status !== 'exited' && r.pid !== null && store.ownerAlive(r.shortId);
}

/** Send a signal to the container's PID 1. Refuses a container that does not run. */
export function signalContainer(store: StateStore, r: ContainerRecord, signal: NodeJS.Signals | number): void {
  const current = store.read(r.shortId) ?? r;
  if (!isRunning(store, current)) {
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
  for (;;) {
    const r = store.read(shortId);
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
  if (isRunning(store, current) || (current.status !== 'exited' && store.ownerAlive(r.shortId))) {
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
}

/** Print a kept container's stdout and stderr logs; with follow, until it exits. */
export async function printLogs(store: StateStore, r: ContainerRecord, opts: LogOptions): Promise<void> {
  const paths = store.paths(r.shortId);
  const files = [
    { path: paths.stdout, fd: 1, offset: 0 },
    { path: paths.stderr, fd: 2, offset: 0 },
  ];
  for (const f of files) {
    const text = readFrom(f.path, 0);
    f.offset = text.length;
    const shown = opts.tail === null ? text : Buffer.from(tailLines(text.toString('utf8'), opts.tail));
    write(f.fd, shown);
  }
  if (!opts.follow) return;
  for (;;) {
    const exited = (store.read(r.shortId)?.status ?? 'exited') === 'exited' || !store.ownerAlive(r.shortId);
    for (const f of files) {
      const more = readFrom(f.path, f.offset);
      f.offset += more.length;
      write(f.fd, more);
    }
    if (exited) return;
    await sleep(100);
  }
}

function readFrom(path: string, offset: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = statSync(path).size;
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, offset + n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function write(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
}
