/**
 * exec(): a new process in a running container, on the path of `tsbox exec`
 * (runtime/exec.ts), with the API's stdio, timeout and abort. As with run(), the
 * command's statuses (126, 127, 128+N) are results; only tsbox's failures reject (a
 * container that does not exist or does not run, 125).
 */
import { asTsboxError, TsboxError } from '../errors.js';
import { createLogger } from '../log.js';
import { execInContainer } from '../runtime/exec.js';
import type { InitExit } from '../runtime/init-connection.js';
import { makeHandle, stopSwitch, type ProcessHandle } from './handle.js';
import { apiExecSchema, parseOptions, type ApiExecInput } from './options.js';
import { endReason, statusOfFailure, type EndReason } from './outcome.js';
import { openPlumbing, withPlumbing, type Plumbing } from './stdio.js';
import { storeFor } from './store.js';
import { z } from 'zod';

export type ExecOptions = ApiExecInput;

export interface ExecResult<Out = string> {
  /** The container's id. */
  id: string;
  reason: Exclude<EndReason, 'oom'>;
  exitCode: number;
  signal: NodeJS.Signals | null;
  wallMs: number;
  stdout: Out | null;
  stderr: Out | null;
  /** Why the command never ran (126, 127, stopped before it started); null if it ran. */
  error: TsboxError | null;
}

export type ExecProcess<Out = string> = ProcessHandle<ExecResult<Out>>;

const commandSchema = z.array(z.string()).min(1, 'give a command to run').refine((c) => c[0] !== '', 'the command name is empty');

export function exec(container: string, command: string[], options: ExecOptions & { encoding: 'buffer' }): ExecProcess<Buffer>;
export function exec(container: string, command: string[], options?: ExecOptions): ExecProcess<string>;
export function exec(container: string, command: string[], options?: ExecOptions): ExecProcess<string | Buffer> {
  let parsed: ReturnType<typeof parseExec>;
  let plumbing: Plumbing;
  let id = '';
  try {
    parsed = parseExec(container, command, options);
    id = storeFor(parsed.o.root).resolve(container).id;
    plumbing = openPlumbing(parsed.o);
  } catch (err) {
    return makeHandle(Promise.reject(asTsboxError(err)), { id, stdout: null, stderr: null });
  }
  return makeHandle(execToEnd(parsed, plumbing, id), { id, stdout: plumbing.stdout, stderr: plumbing.stderr });
}

function parseExec(container: unknown, command: unknown, options: unknown) {
  const ref = parseOptions('exec', z.object({ container: z.string().min(1, 'give a container name or id') }), { container }).container;
  const args = parseOptions('exec', z.object({ command: commandSchema }), { command }).command;
  return { ref, args, o: parseOptions('exec', apiExecSchema, options) };
}

async function execToEnd({ ref, args, o }: ReturnType<typeof parseExec>, plumbing: Plumbing, id: string): Promise<ExecResult<string | Buffer>> {
  const begun = performance.now();
  const stop = stopSwitch(o.timeout, o.signal);
  let exit: InitExit | null = null;
  const { value: ended, stdout, stderr } = await withPlumbing(plumbing, o.encoding, async (): Promise<{ exitCode: number; signal: NodeJS.Signals | null; error: TsboxError | null }> => {
    try {
      const log = createLogger(o.debug ? 'debug' : o.logLevel, o.logFormat);
      const flags = { command: args, env: o.env, workdir: o.workdir, user: o.user, tty: false, debug: o.debug };
      const io = { stdio: plumbing.stdio, abort: stop.signal, onExit: (e: InitExit) => (exit = e) };
      const exitCode = await execInContainer(storeFor(o.root), ref, flags, log, io);
      return { exitCode, signal: (exit as InitExit | null)?.signal ?? null, error: null };
    } catch (err) {
      const e = asTsboxError(err);
      const status = statusOfFailure(e, stop.stoppedBy());
      if (status === null) throw e;
      return { ...status, error: e };
    } finally {
      stop.dispose();
    }
  });
  const reason = endReason({ ...ended, oomKilled: false, stoppedBy: stop.stoppedBy(), started: ended.error === null });
  return {
    id,
    reason: reason === 'oom' ? 'signaled' : reason,
    exitCode: ended.exitCode,
    signal: ended.signal,
    wallMs: performance.now() - begun,
    stdout,
    stderr,
    error: ended.error,
  };
}
