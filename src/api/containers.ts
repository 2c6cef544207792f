/**
 * The lifecycle of recorded containers, on the same code as the CLI's commands (the state
 * store and runtime/control.ts): ps, inspect, logs, stop, kill, rm, wait, stats. Each
 * takes one container (a name, an id or a unique id prefix) and `root`, the state root.
 * They reject with a UsageError (125) for a container that does not exist, or a request
 * that cannot be met (kill or exec a stopped container, rm a running one without force).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import { parseSignal } from '../cli/container-args.js';
import { isRunning, label, removeContainer, signalContainer, stopContainer, waitForExit } from '../runtime/control.js';
import { inspectContainer, type ContainerDetails } from '../runtime/inspect.js';
import { collectContainerLog } from '../runtime/log-reader.js';
import { describeStatus, type ContainerRecord } from '../runtime/state/record.js';
import { sampleCgroup, sampleNetwork } from '../runtime/stats.js';
import { statsRow, type StatsRow, type StatsSample } from '../runtime/stats-table.js';
import { apiKillSchema, apiLogsSchema, apiPsSchema, apiRmSchema, apiRootSchema, apiStatsSchema, apiStopSchema, apiWaitSchema, parseOptions } from './options.js';
import type { KillOptions, LogsOptions, PsOptions, RmOptions, RootOptions, StatsOptions, StopOptions, WaitOptions } from './options.js';
import { storeFor } from './store.js';

export type { ContainerRecord, ContainerDetails, StatsRow };

/** A record as `tsbox ps --format json` shows it, with docker's status text ("Up 3 seconds"). */
export type ContainerSummary = ContainerRecord & { state: string };

/** Containers of the state root: running ones, or all with `all: true`. */
export async function ps(options?: PsOptions): Promise<ContainerSummary[]> {
  const o = parseOptions('ps', apiPsSchema, options);
  const now = new Date();
  return storeFor(o.root).list().filter((r) => o.all || r.status !== 'exited').map((r) => ({ ...r, state: describeStatus(r, now) }));
}

/** Everything tsbox knows about a container (what `tsbox inspect` prints). */
export async function inspect(container: string, options?: RootOptions): Promise<ContainerDetails> {
  const o = parseOptions('inspect', apiRootSchema, options);
  return inspectContainer(storeFor(o.root), container);
}

export interface Logs<Out = string> {
  stdout: Out;
  stderr: Out;
}

/** The output a detached or named container wrote so far (all of it, or the last `tail` lines of both streams together, as `tsbox logs --tail`). */
export async function logs(container: string, options: LogsOptions & { encoding: 'buffer' }): Promise<Logs<Buffer>>;
export async function logs(container: string, options?: LogsOptions): Promise<Logs<string>>;
export async function logs(container: string, options?: LogsOptions): Promise<Logs<string | Buffer>> {
  const o = parseOptions('logs', apiLogsSchema, options);
  const store = storeFor(o.root);
  const paths = store.paths(store.resolve(container).shortId);
  const log = await collectContainerLog(paths.log, { since: null, until: null, tail: o.tail ?? null });
  const out = (b: Buffer) => (o.encoding === 'buffer' ? b : b.toString('utf8'));
  return { stdout: out(log.stdout), stderr: out(log.stderr) };
}

/** docker stop: SIGTERM, then SIGKILL after `time` seconds (default 10). Resolves with the exited record. */
export async function stop(container: string, options?: StopOptions): Promise<ContainerRecord> {
  const o = parseOptions('stop', apiStopSchema, options);
  const store = storeFor(o.root);
  return stopContainer(store, store.resolve(container), o.time);
}

/** Send a signal (default SIGKILL; a name like 'TERM' or 'SIGTERM', or a number) to the container's PID 1. */
export async function kill(container: string, options?: KillOptions): Promise<void> {
  const o = parseOptions('kill', apiKillSchema, options);
  const store = storeFor(o.root);
  const signal = parseSignal(String(o.signal));
  signalContainer(store, store.resolve(container), signal);
}

/** Remove a stopped container's record and logs; `force: true` kills a running one first. */
export async function rm(container: string, options?: RmOptions): Promise<void> {
  const o = parseOptions('rm', apiRmSchema, options);
  const store = storeFor(o.root);
  await removeContainer(store, store.resolve(container), o.force);
}

/** Resolve with the record once the container exited (exitCode, oomKilled...); null if `timeout` ms pass first. */
export async function wait(container: string, options?: WaitOptions): Promise<ContainerRecord | null> {
  const o = parseOptions('wait', apiWaitSchema, options);
  const store = storeFor(o.root);
  return waitForExit(store, store.resolve(container).shortId, o.timeout ?? Infinity);
}

/**
 * One sample of CPU %, memory and pids of running containers (`tsbox stats --no-stream`):
 * the named ones, or all. CPU % is measured over `intervalMs` (default 500).
 */
export async function stats(containers: string[] = [], options?: StatsOptions): Promise<StatsRow[]> {
  const o = parseOptions('stats', apiStatsSchema, options);
  const store = storeFor(o.root);
  const chosen = containers.map((ref) => {
    const r = store.resolve(ref);
    if (!isRunning(store, r)) throw new UsageError(`container ${label(r)} is not running`, { step: 'stats', hint: 'See ps().' });
    return r;
  });
  const targets = chosen.length > 0 ? chosen : store.list().filter((r) => isRunning(store, r));
  const first = new Map<string, StatsSample | null>(targets.map((r) => [r.id, sampleCgroup(r.cgroup)]));
  await sleep(o.intervalMs);
  return Promise.all(targets.map(async (r) => {
    const s = sampleCgroup(r.cgroup);
    if (s === null) return { id: r.id, name: r.name ?? '', cpuPercent: null, memoryBytes: null, memoryLimitBytes: null, memoryPercent: null, netRxBytes: null, netTxBytes: null, pids: null };
    return statsRow(r.id, r.name ?? '', first.get(r.id) ?? null, s, await sampleNetwork(r));
  }));
}
