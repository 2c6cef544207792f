/**
 * `exec`: a new process in a running container, through tsbox's exec-init (init/exec-story.ts):
 * a host process that joins the container's namespaces and cgroup, drops to the container's
 * security and spawns the command into the container's PID namespace without ever entering
 * it itself (docs/security.md, finding 1). With --detach (how podman and containerd exec) the
 * exec-init is what --pid-file names: once we exit it is the engine's subreaper's child,
 * relays the engine's signals to the command and leaves with the command's status.
 * Without --detach we wait and exit with that status (CRI-O's interactive exec).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { constants } from 'node:os';
import { TsboxError, UsageError } from '../../errors.js';
import type { ExecPlan } from '../../init/exec-protocol.js';
import { KILL_EXEC_SIGNAL } from '../../init/exec-protocol.js';
import { spawnExecInit } from '../../namespaces/join-container.js';
import { InitConnection } from '../../runtime/init-connection.js';
import { execSecurityPlan, failIn, loadBundle, parseOciProcess, planProcess, toUserSpec, type OciProcessPlan } from '../spec/index.js';
import { handTerminal } from './console.js';
import { raisableAmbient } from './config-adapter.js';
import type { RuntimeLog } from './runtime-log.js';
import type { StateRoot } from './state-dir.js';
import { initAlive, statusOf } from './status.js';
import { preservedFds } from './preserve-fds.js';

export interface ExecOptions {
  process?: string;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  tty: boolean;
  cwd?: string;
  env: string[];
  user?: string;
  preserveFds: number;
  newPrivs?: boolean;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;

export async function execInContainer(state: StateRoot, id: string, command: string[], o: ExecOptions, log: RuntimeLog, debug: boolean): Promise<number> {
  const r = state.read(id);
  const status = statusOf(state, r);
  if (status !== 'running') throw new TsboxError(status === 'stopped' ? 'container not running' : `cannot exec in a ${status} container`, { step: 'exec' });
  const preserve = preservedFds(o.preserveFds, 'exec');
  const container = loadBundle(r.bundle).plan;
  const proc = o.process ? readProcess(o.process, log) : flagsProcess(command, o, container.process);
  const tty = proc.terminal;
  if (tty && !o.consoleSocket) throw new UsageError('a terminal needs --console-socket', { step: 'exec' });
  const plan: ExecPlan = {
    process: { args: proc.args, env: proc.env, cwd: proc.cwd, user: toUserSpec(proc) },
    // The container's seccomp with the exec's own capabilities and no_new_privs (runtime-spec).
    security: raisableAmbient(execSecurityPlan(container, proc)),
    tty,
    debug,
    ...(o.detach ? { detached: true } : {}),
    ...(preserve.length > 0 ? { preserveFds: preserve.length } : {}),
  };

  const stdio = tty ? (['ignore', 'ignore', 'ignore'] as const) : (['inherit', 'inherit', 'inherit'] as const);
  const child = await spawnExecInit(r.pid, [...stdio], () => initAlive(r), undefined, preserve);
  const init = new InitConnection(child, (m) => log.debug({ step: m.step, exec: true }, m.detail ?? m.step));
  try {
    if (r.cgroup) {
      try {
        writeFileSync(join(r.cgroup, 'cgroup.procs'), String(init.pid));
      } catch (err) {
        throw new TsboxError(`cannot move the exec into the container's cgroup ${r.cgroup}: ${(err as Error).message}`, { step: 'join cgroup' });
      }
    }
    await init.expectReady();
    init.send(plan);
    if (tty) await handTerminal(init, resolve(o.consoleSocket!));
    await init.expectExec();
  } catch (err) {
    if (init.child.exitCode === null && init.child.signalCode === null) {
      init.child.kill(KILL_EXEC_SIGNAL);
      await init.exited;
    }
    throw err;
  }
  if (o.pidFile) {
    const path = resolve(o.pidFile);
    writeFileSync(`${path}.tmp`, String(init.pid));
    renameSync(`${path}.tmp`, path);
  }
  if (o.detach) {
    (init.child.stdio[3] as { destroy(): void } | null)?.destroy();
    init.child.unref();
    return 0;
  }
  const forward = (sig: NodeJS.Signals) => init.child.kill(sig);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    const exit = await init.exited;
    return exit.code ?? 128 + (constants.signals[exit.signal!] ?? 0);
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

/** --process FILE: config.json's process object, read by src/oci/spec. */
function readProcess(file: string, log: RuntimeLog): OciProcessPlan {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the process file ${file}: ${(err as Error).message}`, { step: 'exec' });
  }
  const warnings: string[] = [];
  const proc = planProcess(parseOciProcess(json, basename(file)), failIn(basename(file)), warnings, '');
  for (const w of warnings) log.warn({ step: 'exec' }, w);
  return proc;
}

/** exec ID ARGS... with --cwd/--env/--user/--tty: the container's process with these changes. */
function flagsProcess(command: string[], o: ExecOptions, base: OciProcessPlan): OciProcessPlan {
  if (command.length === 0) throw new UsageError('exec needs --process FILE or a command', { step: 'exec' });
  let user = base.user;
  if (o.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
    if (!m) throw new UsageError(`--user must be UID[:GID], not '${o.user}'`, { step: 'exec' });
    user = { ...user, uid: Number(m[1]), gid: Number(m[2] ?? 0) };
  }
  return { ...base, args: command, env: [...base.env, ...o.env], cwd: o.cwd ?? base.cwd, user, terminal: o.tty, noNewPrivileges: base.noNewPrivileges || o.newPrivs === false };
}
