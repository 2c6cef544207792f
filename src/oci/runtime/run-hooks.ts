/**
 * The hooks that run in the runtime's namespaces (prestart, createRuntime, poststart,
 * poststop: spec/hooks.ts says which and when), from tsbox-runtime itself. One after another,
 * in config.json's order; each gets the state JSON on stdin, exactly its args and env, and
 * is killed with its whole process group when it outlives its timeout (a shell hook's
 * `sleep` would otherwise stay behind). Its output is kept for the error, not passed on: the
 * runtime's stdout and stderr are the container's (conmon's pipes).
 */
import { spawn } from 'node:child_process';
import { TsboxError } from '../../errors.js';
import { describeHookFailure, hookEnv, hookStdin, HOOK_PHASES, type HookCommand, type HookOutcome, type HookPhase, type HooksPlan } from '../spec/hooks.js';
import type { OciStateInput } from '../spec/state.js';
import type { RuntimeLog } from './runtime-log.js';

/** What a hook may print that we keep (the last line goes into the error). */
const KEEP_OUTPUT = 64 * 1024;
/** After the hook exited: how long its pipes may stay open (a child it left holds them). */
const PIPE_GRACE_MS = 100;

/**
 * Run the hooks of `phase`. A failure of an error phase throws (the operation fails and
 * its caller tears down); of a warning phase it is logged and the next hook runs.
 */
export async function runRuntimeHooks(hooks: Partial<HooksPlan>, phase: HookPhase, state: Omit<OciStateInput, 'status'>, log: RuntimeLog): Promise<void> {
  const list = hooks[phase] ?? [];
  if (list.length === 0) return;
  const info = HOOK_PHASES.find((p) => p.phase === phase)!;
  const stdin = hookStdin(phase, state);
  for (const [i, hook] of list.entries()) {
    log.debug({ step: `${phase} hooks` }, `running ${hook.path}`);
    const failure = describeHookFailure(phase, i, hook, await runOne(hook, stdin));
    if (failure === null) continue;
    if (info.onFailure === 'warn') {
      log.warn({ step: `${phase} hooks` }, failure);
      continue;
    }
    throw new TsboxError(failure, { step: `${phase} hooks`, hint: 'The hook is config.json\'s: see what it needs.' });
  }
}

function runOne(hook: HookCommand, stdin: string): Promise<HookOutcome> {
  return new Promise((resolve) => {
    let stderr = '';
    let timedOut = false;
    let settled = false;
    // detached: a process group of its own, so that a timeout kills what it started too.
    const child = spawn(hook.path, hook.args.slice(1), { argv0: hook.args[0], env: hookEnv(hook), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const finish = (o: HookOutcome) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(o);
    };
    const timer = hook.timeoutSeconds === null ? null : setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, hook.timeoutSeconds * 1000);
    child.on('error', (err) => finish({ kind: 'spawn', code: (err as NodeJS.ErrnoException).code ?? err.message }));
    child.stdin.on('error', () => {}); // a hook that does not read its stdin: EPIPE is no failure
    child.stdin.end(stdin);
    child.stdout.on('data', () => {}); // drained, so that a chatty hook never blocks
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < KEEP_OUTPUT) stderr += d.toString('utf8');
    });
    child.on('exit', (code, signal) => {
      const outcome = (): HookOutcome => timedOut ? { kind: 'timeout', seconds: hook.timeoutSeconds! }
        : signal !== null ? { kind: 'signal', signal, stderr }
        : { kind: 'exit', status: code ?? 0, stderr };
      // The last of its stderr may still be in the pipe; a child it left behind may hold it open.
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(outcome());
      }, PIPE_GRACE_MS);
      child.on('close', () => {
        clearTimeout(grace);
        finish(outcome());
      });
    });
  });
}
