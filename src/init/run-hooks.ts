/**
 * The hooks that run in the container's namespaces (createContainer, startContainer:
 * oci/spec/hooks.ts), run by the init itself: it is already where they must run (its mount
 * namespace, before pivot_root for createContainer; inside the container, before exec, for
 * startContainer), so nothing has to enter it from outside. The init is a straight-line
 * program: spawnSync, with the state JSON the runtime prepared on stdin and the hook's
 * timeout. A hook that outlives it is killed; what it started dies with the PID namespace
 * when the failing init exits (the init is its PID 1).
 */
import { spawnSync } from 'node:child_process';
import { describeHookFailure, hookEnv, type HookCommand, type HookOutcome, type HookPhase } from '../oci/spec/hooks.js';
import { cloexecFrom } from '../sys/fd.js';
import type { InitSteps } from './init-steps.js';
import type { ContainerHooksPlan } from './protocol.js';

export function runContainerHooks(steps: InitSteps, phase: HookPhase, hooks: readonly HookCommand[], stdin: string): void {
  if (hooks.length === 0) return;
  // The sync socket and whatever else we hold are not the hook's.
  cloexecFrom(3);
  hooks.forEach((hook, i) => steps.step(`${phase} hooks`, () => {
    const failure = describeHookFailure(phase, i, hook, runHookSync(hook, stdin));
    if (failure !== null) throw new Error(failure);
  }));
}

export function runHookSync(hook: HookCommand, stdin: string): HookOutcome {
  const r = spawnSync(hook.path, hook.args.slice(1), {
    argv0: hook.args[0],
    env: hookEnv(hook),
    input: stdin,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1024 * 1024,
    killSignal: 'SIGKILL',
    ...(hook.timeoutSeconds !== null ? { timeout: hook.timeoutSeconds * 1000 } : {}),
  });
  const stderr = r.stderr?.toString('utf8') ?? '';
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ETIMEDOUT') return { kind: 'timeout', seconds: hook.timeoutSeconds! };
  if (r.error && r.pid === 0) return { kind: 'spawn', code: code ?? r.error.message };
  if (r.signal !== null) return { kind: 'signal', signal: r.signal, stderr };
  return { kind: 'exit', status: r.status ?? 0, stderr };
}

/**
 * After the mounts, before pivot_root: the runtime's prestart and createRuntime hooks (it
 * runs them while we wait), then createContainer here, in the container's mount namespace
 * with the host's paths still reachable (the spec resolves their path in the runtime's).
 */
export function hooksBeforePivot(steps: InitSteps, hooks: ContainerHooksPlan): void {
  if (hooks.runtimePoint) {
    steps.step('createRuntime hooks', () => {
      steps.channel.send({ t: 'hook-point' });
      const m = steps.channel.readMessage();
      if (m.t !== 'resume') throw new Error(`expected the resume message, got ${m.t}`);
    });
  }
  runContainerHooks(steps, 'createContainer', hooks.createContainer, hooks.stdin.createContainer);
}
