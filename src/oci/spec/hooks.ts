/**
 * config.json's hooks -> which programs run when, where, and what they are told
 * (runtime-spec config.md "POSIX-platform Hooks", runtime.md "Lifecycle"). Pure.
 *
 *   phase            when (tsbox's lifecycle)                              namespaces      state.status  on failure
 *   prestart         create: after the namespaces and mounts exist, before  the runtime's   creating      error: tear down
 *                    pivot_root (deprecated; runs just before createRuntime)
 *   createRuntime    create: same point, after prestart                      the runtime's   creating      error: tear down
 *   createContainer  create: same point, after createRuntime               the container's creating      error: tear down
 *                                                                          mount ns (path
 *                                                                          resolved in the runtime's)
 *   startContainer   start: in the init, before execve of the command       the container's created      error: tear down
 *   poststart        start: after the command was started, before start     the runtime's   running       warning, go on
 *                    returns
 *   poststop         delete: after the container is gone, before delete     the runtime's   stopped       warning, go on
 *                    returns
 *
 * Each hook gets the container's state JSON (state.ts) on stdin, runs with exactly `args`
 * (args[0] is argv[0]; absent: [path]) and `env` (absent: empty), and is killed after
 * `timeout` seconds when one is given. Hooks of one phase run one after another, in order.
 */
import type { Fail } from './errors.js';
import type { OciHook, OciHooks } from './schema.js';
import { buildOciState, formatOciState, type OciStateInput, type OciStatus } from './state.js';

export type HookPhase = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface HookPhaseInfo {
  phase: HookPhase;
  /** The operation that runs it. */
  operation: 'create' | 'start' | 'delete';
  /** 'runtime': the runtime's namespaces; 'container': inside the container's mount namespace. */
  namespace: 'runtime' | 'container';
  /** The state's status the hooks of this phase are given. */
  status: OciStatus;
  /** 'error': a failure fails the operation (and the container is destroyed); 'warn': logged, go on. */
  onFailure: 'error' | 'warn';
}

/** The phases in the order they happen. */
export const HOOK_PHASES: readonly HookPhaseInfo[] = [
  { phase: 'prestart', operation: 'create', namespace: 'runtime', status: 'creating', onFailure: 'error' },
  { phase: 'createRuntime', operation: 'create', namespace: 'runtime', status: 'creating', onFailure: 'error' },
  { phase: 'createContainer', operation: 'create', namespace: 'container', status: 'creating', onFailure: 'error' },
  { phase: 'startContainer', operation: 'start', namespace: 'container', status: 'created', onFailure: 'error' },
  { phase: 'poststart', operation: 'start', namespace: 'runtime', status: 'running', onFailure: 'warn' },
  { phase: 'poststop', operation: 'delete', namespace: 'runtime', status: 'stopped', onFailure: 'warn' },
];

export interface HookCommand {
  path: string;
  /** argv, argv[0] included. */
  args: string[];
  env: string[];
  /** Seconds; null: no limit. */
  timeoutSeconds: number | null;
}

export type HooksPlan = Record<HookPhase, HookCommand[]>;

export const NO_HOOKS: HooksPlan = { prestart: [], createRuntime: [], createContainer: [], startContainer: [], poststart: [], poststop: [] };

export function planHooks(hooks: OciHooks | null | undefined, fail: Fail, warnings: string[]): HooksPlan {
  const plan: HooksPlan = { prestart: [], createRuntime: [], createContainer: [], startContainer: [], poststart: [], poststop: [] };
  if (!hooks) return plan;
  for (const { phase } of HOOK_PHASES) {
    plan[phase] = (hooks[phase] ?? []).map((h, i) => planHook(h, `hooks.${phase}[${i}]`, fail));
  }
  if (plan.prestart.length > 0) warnings.push('hooks.prestart is deprecated in the runtime-spec; tsbox runs them just before createRuntime');
  return plan;
}

function planHook(h: OciHook, where: string, fail: Fail): HookCommand {
  if (!h.path.startsWith('/')) throw fail(`${where}.path`, `'${h.path}' is not an absolute path`);
  if (h.timeout !== null && h.timeout !== undefined && h.timeout <= 0) throw fail(`${where}.timeout`, 'must be a positive number of seconds');
  (h.env ?? []).forEach((e, i) => {
    if (e.indexOf('=') <= 0) throw fail(`${where}.env[${i}]`, `'${e}' is not NAME=VALUE`);
  });
  const args = h.args && h.args.length > 0 ? h.args : [h.path];
  return { path: h.path, args, env: h.env ?? [], timeoutSeconds: h.timeout ?? null };
}

/** The hooks of one phase with what to write on their stdin. */
export function hookRun(plan: HooksPlan, phase: HookPhase): { info: HookPhaseInfo; hooks: HookCommand[] } {
  return { info: HOOK_PHASES.find((p) => p.phase === phase)!, hooks: plan[phase] };
}

/**
 * What a hook of `phase` reads on stdin: the container's state with the phase's status
 * (state.ts), as one line of JSON.
 */
export function hookStdin(phase: HookPhase, state: Omit<OciStateInput, 'status'>): string {
  const info = HOOK_PHASES.find((p) => p.phase === phase)!;
  return formatOciState(buildOciState({ ...state, status: info.status }));
}

/** How one hook ended, as its runner saw it (the runtime's async one, or the init's). */
export type HookOutcome =
  | { kind: 'ok' }
  | { kind: 'exit'; status: number; stderr: string }
  | { kind: 'signal'; signal: string; stderr: string }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'spawn'; code: string };

/**
 * One line naming the hook (phase, index, path) and why it failed; null when it did not.
 * The hook's stderr is its own account of the failure: its last non-empty line is kept.
 */
export function describeHookFailure(phase: HookPhase, index: number, hook: HookCommand, outcome: HookOutcome): string | null {
  const name = `hooks.${phase}[${index}] (${hook.path})`;
  const said = (stderr: string) => {
    const last = stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop();
    return last ? `: ${last.slice(0, 200)}` : '';
  };
  switch (outcome.kind) {
    case 'ok': return null;
    case 'exit': return outcome.status === 0 ? null : `${name} exited with status ${outcome.status}${said(outcome.stderr)}`;
    case 'signal': return `${name} was killed by ${outcome.signal}${said(outcome.stderr)}`;
    case 'timeout': return `${name} did not finish within its timeout of ${outcome.seconds}s and was killed`;
    case 'spawn': return `${name} could not be started (${outcome.code})`;
  }
}

/** A hook's environment as an object (spawn's form); planHook checked every entry is NAME=VALUE. */
export function hookEnv(hook: HookCommand): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of hook.env) {
    const eq = e.indexOf('=');
    env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return env;
}
