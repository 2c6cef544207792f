/**
 * The exec-init's way of handing over (init/become.ts): it starts the command with
 * posix_spawn from its main thread, which alone dropped to the container's user and
 * security and set the container's PID namespace as where children are born, then relays
 * signals to it and leaves with its status. Loaded by the exec-init's bundle only.
 */
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { kill, PR, prctl } from '../sys/process.js';
import { posixSpawn, reapAny } from '../sys/spawn.js';
import { KILL_EXEC_SIGNAL } from './exec-protocol.js';
import { cannotExecute } from './handover.js';
import type { InitSteps } from './init-steps.js';
import { SYNC_FD } from './protocol.js';
import type { ResolvedProcess } from './resolve-process.js';
import type { ProcessPlan } from './protocol.js';
import { applyChildLimits } from './process-settings.js';
import { linuxProcessSettingsSys } from './linux-settings-sys.js';

const SIGKILL = 9;
const SIGTERM = 15;
/** What tsbox exec forwards (runtime/signals.ts); SIGKILL and SIGSTOP cannot be caught. */
const RELAYED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
const REAP_POLL_MS = 250;

/**
 * Start the command and wait for it. `pty` (-t): the child reopens the very pty we checked,
 * through our fd (/proc/self/fd/N in the child: still open there until its execve), and we
 * let go of it at once so that the pty hangs up when the command's side closes.
 * `inherit`: fds of ours the command gets at other numbers (tsbox-runtime --preserve-fds).
 */
export function spawnAndWait(steps: InitSteps, proc: ResolvedProcess, plan: ProcessPlan, pty: number | undefined, parent: number | null, inherit: ReadonlyArray<readonly [number, number]> = []): void {
  const args = plan.args;
  let command = 0;
  // Handled once this synchronous stretch ends, by which time the command exists.
  process.on(KILL_EXEC_SIGNAL, () => killQuietly(command, SIGKILL));
  try {
    command = posixSpawn(proc.path, args, proc.env, { foregroundOnTerminal: false, newSession: true, terminal: pty === undefined ? undefined : `/proc/self/fd/${pty}`, inherit });
  } catch (err) {
    throw cannotExecute(proc.path, err);
  }
  // The limits Node could not live under (as, data), on the command before it runs (process-settings.ts).
  steps.step('set rlimits of the command', () => withCommandKilledOnError(command, () => applyChildLimits(command, plan, linuxProcessSettingsSys)));
  steps.current = 'exec';
  if (pty !== undefined) closeSync(pty);
  steps.channel.send({ t: 'exec', path: proc.path });
  closeSync(SYNC_FD); // the parent reads EOF as "the command runs"
  // From now on, tsbox exec's death must take the command with it, not leave it orphaned.
  // (A seccomp profile may deny prctl to us now: the command runs either way.) Not with
  // tsbox-runtime exec --detach (parent null): its parent leaves now by design.
  if (parent !== null) {
    try {
      prctl(PR.SET_PDEATHSIG, SIGTERM);
    } catch {
      // without it, a killed tsbox exec leaves the command running, as docker exec does
    }
  }
  relayAndReap(command, parent);
}

/**
 * Forward what tsbox exec forwards to us, until the command is reaped (it is our only child,
 * so its pid cannot be reused before that), then leave with its status. When tsbox exec
 * itself dies, the kernel sends us SIGTERM (the parent-death signal): then the command is
 * killed, as it would have died with us had it been exec'd in our place.
 */
function relayAndReap(child: number, parent: number | null): void {
  for (const signal of RELAYED) {
    process.on(signal, () => {
      const orphaned = signal === 'SIGTERM' && parent !== null && process.ppid !== parent;
      killQuietly(child, orphaned ? SIGKILL : constants.signals[signal]);
    });
  }
  const reap = () => {
    for (let r = reapAny(); r !== null; r = reapAny()) {
      if (r.pid === child) leaveAs(r.status, r.signal);
    }
  };
  process.on('SIGCHLD', reap);
  // SIGCHLDs coalesce and may arrive before the listener: poll as well, cheaply.
  setInterval(reap, REAP_POLL_MS);
  reap();
}

/**
 * End the way the command ended, so that tsbox exec (and the API) sees a signal as a signal,
 * not as an exit status of 128+N. SIGUSR1 is the exception: without our listener Node would
 * start its inspector instead of dying, so that one ends as exit status 138.
 */
function leaveAs(status: number, signal: number | null): never {
  const name = signal === null ? undefined : (Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] as NodeJS.Signals | undefined);
  if (name !== undefined && name !== 'SIGUSR1') {
    process.removeAllListeners(name); // the default action again
    process.kill(process.pid, name);
  }
  process.exit(status);
}

/** A command that must not run as it is (its limits could not be set) is killed before we report. */
function withCommandKilledOnError(pid: number, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    killQuietly(pid, SIGKILL);
    throw err;
  }
}

function killQuietly(pid: number, signal: number): void {
  if (pid <= 0) return; // never kill(0) or kill(-1): only the command
  try {
    kill(pid, signal);
  } catch {
    // already gone; its status is on its way
  }
}
