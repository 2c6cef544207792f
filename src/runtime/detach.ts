/**
 * `tsbox run -d`: the front end creates the record (so a taken name fails here, with exit
 * 125) and the log files, starts a monitor, and returns once the monitor reports that
 * the command runs, or why it could not start.
 *
 * The monitor is a Node program of its own (runtime/monitor-main.ts), in a session of its
 * own: it runs the ordinary run story with the container's stdio on the log files, so
 * everything a foreground run guarantees holds (the init's PDEATHSIG ties the container
 * to it; if it is SIGKILLed, the container dies with it and gc reclaims both). It inherits the
 * record's owner lock: the flock belongs to the open file, shared across the fork.
 *
 *   monitor fds: 0 /dev/null, 1 /dev/null, 2 monitor.log, 3 IPC, 4 owner.lock
 *
 * The container's stdout and stderr are pipes the monitor copies into the container's log,
 * with a timestamp per line (output-log.ts), rotated at --log-opt max-size.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { programArgs } from '../boot/locate.js';
import { asTsboxError, TsboxError } from '../errors.js';
import { endExplain, type Logger } from '../log.js';
import type { RunSpec } from '../spec/run-spec.js';
import { createEntry, runTracked } from './lifecycle.js';
import { settleMonitorMemory } from './monitor-memory.js';
import { writeStatsReport } from './stats-file.js';
import { StateStore } from './state/store.js';
import { listenForStart, type StartRequest } from './start-socket.js';
import { relayLog } from './explain-relay.js';
import { listenForWaiters } from './wait-socket.js';

export const MONITOR_FDS = { lock: 4 } as const;

type MonitorReply = { t: 'started'; pid: number } | { t: 'created'; pid: number } | { t: 'error'; message: string; step?: string; hint?: string; exitCode: number };

/** What the front end asks of the monitor: run the container (-d), or create it and hold it until `tsbox start` (hold). */
export interface MonitorRequest {
  spec: RunSpec;
  hold: boolean;
}

/**
 * -d: resolves once the command runs. `hold` (tsbox create): resolves once the container is
 * created, its init held before exec by the monitor until `tsbox start` connects to the
 * container's start socket (start-socket.ts). `reuse`: the record of a stopped container,
 * started again with the same id and config (tsbox restart / start).
 */
export async function startDetached(spec: RunSpec, opts: { hold?: boolean; reuse?: boolean } = {}): Promise<{ id: string; pid: number }> {
  const entry = createEntry(spec, { reuse: opts.reuse ?? false });
  const fds: number[] = [];
  try {
    const open = (path: string) => {
      const fd = openSync(path, 'a', 0o600);
      fds.push(fd);
      return fd;
    };
    const monitorLog = open(entry.paths.monitorLog);
    // --explain: the monitor explains the setup into monitor.log; shown below once it replied.
    const explained = spec.log.explain ? relayLog(entry.paths.monitorLog) : null;
    const child = spawn(process.execPath, programArgs('monitor'), {
      detached: true,
      stdio: ['ignore', 'ignore', monitorLog, 'ipc', entry.lockFd],
      // Nothing of the user's environment: NODE_OPTIONS or NODE_EXTRA_CA_CERTS (a CA bundle
      // parsed at start-up, several MB) would cost every monitor for the container's life.
      env: {},
    });
    const reply = await new Promise<MonitorReply>((resolve) => {
      child.once('message', (m) => resolve(m as MonitorReply));
      child.once('exit', (code, signal) => resolve({ t: 'error', message: `the container's monitor exited (${signal ?? `status ${code}`}) before the container started; see ${entry.paths.monitorLog}`, exitCode: 125 }));
      child.once('error', (e) => resolve({ t: 'error', message: `cannot start the container's monitor: ${e.message}`, exitCode: 125 }));
      child.send({ spec, hold: opts.hold ?? false } satisfies MonitorRequest);
    });
    explained?.copyTo();
    if (reply.t === 'error') {
      entry.remove();
      throw new TsboxError(reply.message, { step: reply.step, hint: reply.hint, exitCode: reply.exitCode });
    }
    if (child.connected) child.disconnect();
    child.unref();
    entry.release();
    return { id: spec.id, pid: reply.pid };
  } catch (err) {
    try {
      entry.remove();
    } catch {
      // already gone
    }
    throw err;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** The monitor's side (monitor-main.ts): run the container, report its start, record its end. */
export async function runMonitor(createLog: (spec: RunSpec) => Logger): Promise<number> {
  const message = await new Promise<MonitorRequest>((resolve) => process.once('message', (m) => resolve(m as MonitorRequest)));
  const spec: RunSpec = { ...message.spec, stdio: ['ignore', 'ignore', 'ignore'] };
  const log = createLog(spec);
  const entry = new StateStore(spec.stateDir).adopt(spec.shortId, MONITOR_FDS.lock);
  const report = (reply: MonitorReply) =>
    new Promise<void>((resolve) => {
      if (!process.connected) return resolve();
      process.send!(reply, () => {
        process.disconnect();
        resolve();
      });
    });
  // tsbox create: once the container is created, tell the front end and hold the init
  // until `tsbox start` connects; its reply (started, or why not) goes back on that connection.
  let starter: StartRequest | null = null;
  const holdUntilStart = message.hold
    ? async (created: { pid: number }) => {
        entry.update({ status: 'created', pid: created.pid, ownerPid: process.pid });
        const waiting = listenForStart(entry.paths.startSocket);
        await waiting.ready;
        await report({ t: 'created', pid: created.pid });
        settleMonitorMemory(log);
        starter = await waiting.request;
      }
    : undefined;
  const reply = (r: MonitorReply) => (starter ? starter.reply(r) : report(r));
  // A --rm container's record goes with its exit status: `tsbox wait` asks here instead.
  const waiters = spec.keep ? null : await listenForWaiters(entry.paths.waitSocket);
  try {
    await runTracked(spec, log, {
      entry,
      holdUntilStart,
      onStarted: (pid) => void reply({ t: 'started', pid }).then(() => settleMonitorMemory(log)),
      // No tsbox run waits for a detached container: its monitor writes the --stats-file,
      // before the record says "exited" (or is removed with --rm), so `tsbox wait` then
      // reading the file cannot race.
      onExited: async (result) => {
        try {
          writeStatsReport(spec, result);
        } catch (e) {
          log.error({ file: spec.report.statsFile, err: (e as Error).message }, 'could not write --stats-file');
        }
        // `tsbox start -a`: it hears the exit status here, and has read the output when it
        // hangs up; only then may a --rm container's record and log go.
        await Promise.all([(starter as StartRequest | null)?.ended(result.exitCode), waiters?.ended(result.exitCode)]);
      },
      // A monitor's container has no terminal to write to: its output always goes to its
      // log, also with --rm (`tsbox logs` while it runs, `tsbox start -a` of a created one).
      recordOutput: true,
    });
  } catch (err) {
    const e = asTsboxError(err);
    log.error({ step: e.step, err: e.message }, 'the container failed');
    endExplain(); // --explain: the failed step's lines are in monitor.log before the front end copies them
    await reply({ t: 'error', message: e.message, step: e.step, hint: e.hint, exitCode: e.exitCode });
  } finally {
    waiters?.close();
  }
  return 0;
}
