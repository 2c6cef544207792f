/**
 * run() and runDetached(): a container from options, on the same path as `tsbox run`
 * (buildRunSpec, then runtime/run-and-report.ts), in the caller's process. The caller
 * must be root, as for the CLI.
 *
 * run() resolves with how the container ended: its status (126/127 when the command could
 * not be run, 128+N for a signal), the reason, resource use and, for 'buffer', the output.
 * It rejects only when tsbox itself fails (a TsboxError, exit code 125), having left
 * nothing behind. A timeout or an abort SIGKILLs the container (or stops its setup), and
 * the usual teardown reclaims everything before the promise resolves.
 */
import { randomBytes } from 'node:crypto';
import type { CgroupStats } from '../cgroups/index.js';
import { asTsboxError, TsboxError } from '../errors.js';
import { runDetachedWithSpec, runWithSpec } from '../runtime/run-and-report.js';
import { buildRunSpec, type RunSpec } from '../spec/run-spec.js';
import { makeHandle, stopSwitch, type ProcessHandle, type StopSwitch } from './handle.js';
import { apiDetachedSchema, apiRunSchema, parseOptions, type ApiDetachedInput, type ApiRunInput, type ApiRunParsed } from './options.js';
import { endReason, statusOfFailure, type EndReason } from './outcome.js';
import { openPlumbing, withPlumbing, type Plumbing } from './stdio.js';

export type RunOptions = ApiRunInput;
export type DetachedRunOptions = ApiDetachedInput;

export interface RunResult<Out = string> {
  id: string;
  name: string | null;
  /** How it ended: on its own ('exited', 'signaled'), killed by the OOM killer, or stopped by the API. */
  reason: EndReason;
  /** The command's status; 128+N when signal N ended it (137 after a timeout or an abort). */
  exitCode: number;
  signal: NodeJS.Signals | null;
  /** The kernel's OOM killer killed a process of the container (memory.events oom_kill). */
  oomKilled: boolean;
  /** Resource use read from the container's cgroup at its end; null without cgroup v2, or if it never started. */
  stats: CgroupStats | null;
  wallMs: number;
  /** With 'buffer': everything the container wrote; null otherwise. */
  stdout: Out | null;
  stderr: Out | null;
  /** Why the command never ran (126, 127, setup stopped): the error the CLI would print. Null if it ran. */
  error: TsboxError | null;
}

export type RunProcess<Out = string> = ProcessHandle<RunResult<Out>>;

export function run(options: RunOptions & { encoding: 'buffer' }): RunProcess<Buffer>;
export function run(options: RunOptions): RunProcess<string>;
export function run(options: RunOptions): RunProcess<string | Buffer> {
  const id = randomBytes(32).toString('hex');
  let parsed: ApiRunParsed;
  let plumbing: Plumbing;
  try {
    parsed = parseOptions('run', apiRunSchema, options);
    plumbing = openPlumbing(parsed);
  } catch (err) {
    return makeHandle(Promise.reject(asTsboxError(err)), { id, stdout: null, stderr: null });
  }
  return makeHandle(runToEnd(parsed, plumbing, id), { id, stdout: plumbing.stdout, stderr: plumbing.stderr });
}

/** Start a container in the background: resolves once its command runs. Its output goes to logs(). */
export async function runDetached(options: DetachedRunOptions): Promise<{ id: string; pid: number }> {
  const o = parseOptions('runDetached', apiDetachedSchema, options);
  return runDetachedWithSpec(await buildRunSpec({ ...o, detach: true, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' }));
}

interface Ended {
  exitCode: number;
  signal: NodeJS.Signals | null;
  oomKilled: boolean;
  stats: CgroupStats | null;
  started: boolean;
  error: TsboxError | null;
}

async function runToEnd(o: ApiRunParsed, plumbing: Plumbing, id: string): Promise<RunResult<string | Buffer>> {
  const begun = performance.now();
  const stop = stopSwitch(o.timeout, o.signal);
  const { value: ended, stdout, stderr } = await withPlumbing(plumbing, o.encoding, async () => {
    try {
      const { stdin, input, stdout, stderr, encoding, timeout, signal, ...rest } = o;
      const spec = await buildRunSpec({ ...rest, stdin: plumbing.stdio[0], stdout: plumbing.stdio[1], stderr: plumbing.stdio[2] }, process.env, { id });
      return stop.signal.aborted ? stoppedBeforeStart(stop) : await runOrStatus(spec, stop);
    } finally {
      stop.dispose();
    }
  });
  return {
    id,
    name: o.name ?? null,
    reason: endReason({ ...ended, stoppedBy: stop.stoppedBy() }),
    exitCode: ended.exitCode,
    signal: ended.signal,
    oomKilled: ended.oomKilled,
    stats: ended.stats,
    wallMs: performance.now() - begun,
    stdout,
    stderr,
    error: ended.error,
  };
}

/** The run, with the command's own failures (126, 127, 128+N) turned into statuses. */
async function runOrStatus(spec: RunSpec, stop: StopSwitch): Promise<Ended> {
  try {
    const r = await runWithSpec(spec, undefined, { abort: stop.signal });
    return { exitCode: r.exitCode, signal: r.signal, oomKilled: r.oomKilled, stats: r.stats, started: true, error: null };
  } catch (err) {
    const e = asTsboxError(err);
    const status = statusOfFailure(e, stop.stoppedBy());
    if (status === null) throw e;
    return { ...status, oomKilled: false, stats: null, started: false, error: e };
  }
}

function stoppedBeforeStart(stop: StopSwitch): Ended {
  const why = stop.stoppedBy() === 'timeout' ? 'the timeout expired' : 'the signal was aborted';
  return { exitCode: 137, signal: 'SIGKILL', oomKilled: false, stats: null, started: false, error: new TsboxError(`${why} before the container started`, { step: 'setup', exitCode: 137 }) };
}
