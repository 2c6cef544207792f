/**
 * `tsbox exec`: a new process in a running container. The container's record says where
 * it runs (pid, cgroup) and its spec how its process was set up; the exec-init joins it
 * (namespaces/join-container.ts, init/exec-story.ts) and becomes the command. Returns the
 * command's exit status (128+N for a signal N), or throws a TsboxError (125, or 126/127
 * when the command cannot be found or run).
 */
import { pidInOwnNamespace } from '../namespaces/ns-pid.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsboxError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { KILL_EXEC_SIGNAL } from '../init/exec-protocol.js';
import { spawnExecInit } from '../namespaces/join-container.js';
import { logInitSpawn } from '../namespaces/spawn-trace.js';
import type { TracedCall } from '../sys/libc.js';
import type { RunSpec, StdioChoice } from '../spec/run-spec.js';
import { assertCan } from '../container/status.js';
import { readConfigFile } from '../container/config-file.js';
import { isRunning, label } from './control.js';
import { planExec, type ExecFlags } from './exec-plan.js';
import { exitStatus, InitConnection, type InitExit } from './init-connection.js';
import { commandStarted, followToExit } from './follow-command.js';
import { forwardSignals } from './signals.js';
import type { StateStore } from './state/store.js';
import { openContainerTerminal, type ContainerTerminal } from './terminal.js';
import { relayTerminals, type StdioRelay } from './stdio-relay.js';
import { isatty } from 'node:tty';
import { ownCgroupDir } from '../cgroups/own-group.js';

/** What the programmatic API (src/api/exec.ts) sets beyond the CLI's flags. */
export interface ExecIo {
  /** The command's stdin, stdout, stderr (default: tsbox's own, or none with a terminal). */
  stdio?: [StdioChoice, StdioChoice, StdioChoice];
  /** Once aborted: stop before the command starts, or SIGKILL it (see RunHooks.abort). */
  abort?: AbortSignal;
  /** How the command ended: the status alone cannot tell 137 from a SIGKILL. */
  onExit?: (exit: InitExit) => void;
}

export async function execInContainer(store: StateStore, ref: string, flags: ExecFlags, log: Logger, io: ExecIo = {}): Promise<number> {
  const record = store.resolve(ref);
  // docker refuses exec into a created container: no command runs yet to join (container/status.ts).
  if (record.status === 'created' && record.pid !== null && store.ownerAlive(record.shortId)) assertCan('exec', 'created', label(record));
  if (!isRunning(store, record)) {
    throw new UsageError(`container ${label(record)} is not running`, { hint: record.status === 'created' ? 'It is still starting; try again.' : "See 'tsbox ps -a'." });
  }
  let spec: RunSpec;
  try {
    spec = readConfigFile(store.paths(record.shortId).spec);
  } catch (err) {
    throw new TsboxError(`cannot read the spec of container ${label(record)}: ${(err as Error).message}`);
  }
  const plan = planExec(spec, flags, process.env);
  // --pid host / container:NAME: the init is not PID 1 of the container's /proc.
  if (spec.namespaces.pid.kind !== 'private') plan.initPid = pidInOwnNamespace(record.pid!);

  const interrupts = forwardSignals(log);
  const onAbort = () => interrupts.deliver('SIGKILL');
  io.abort?.addEventListener('abort', onAbort, { once: true });
  if (io.abort?.aborted) onAbort();
  let init: InitConnection | null = null;
  let terminal: ContainerTerminal | null = null;
  let relay: StdioRelay | null = null;
  try {
    const stillOurs = () => {
      const now = store.read(record.shortId);
      return now !== null && now.pid === record.pid && isRunning(store, now);
    };
    const stdio = io.stdio ?? (flags.tty ? (['ignore', 'ignore', 'ignore'] as const) : (['inherit', 'inherit', 'inherit'] as const));
    // Without a pty, the user's terminal is relayed through pipes, never handed to the container.
    relay = flags.tty ? null : relayTerminals([...stdio], isatty);
    interrupts.check();
    const calls: TracedCall[] | undefined = flags.debug ? [] : undefined;
    const child = await spawnExecInit(record.pid!, relay?.stdio ?? [...stdio], stillOurs, calls);
    if (calls) logInitSpawn(log, child.pid!, calls, { container: record.pid }, 'exec-init spawned', 'spawn exec-init');
    const relayedStdio = relay?.start();
    init = new InitConnection(child, (m) => log.debug({ step: m.step, exec: true }, m.detail ?? m.step));
    const started = init;
    interrupts.onInterrupt(() => started.child.kill(KILL_EXEC_SIGNAL));
    // Into the container's cgroup before it runs a single instruction of the command: its
    // limits (memory, pids) apply to the exec too, and stats count it.
    // Where the exec-init goes back to once its command runs (leaveContainerGroup).
    const home = record.cgroup ? ownCgroupDir() : null;
    if (record.cgroup) {
      try {
        writeFileSync(join(record.cgroup, 'cgroup.procs'), String(init.pid));
        if (flags.debug) log.debug({ step: 'join cgroup', cgroup: record.cgroup, pid: init.pid }, `write ${join(record.cgroup, 'cgroup.procs')}: ${init.pid}`);
      } catch (err) {
        throw new TsboxError(`cannot move the exec into the container's cgroup ${record.cgroup}: ${(err as Error).message}`, { step: 'join cgroup' });
      }
    }
    await init.expectReady();
    interrupts.check();
    init.send(plan);
    if (plan.tty) terminal = await openContainerTerminal(init, KILL_EXEC_SIGNAL);
    // The command runs. A signal that came while it was starting (its output can arrive before
    // the exec-init's word that it started) already ended it through the exec-init
    // (onInterrupt above): its exit status, not "interrupted during setup", is the result.
    // The exec-init ends the command when it gets KILL_EXEC_SIGNAL; a SIGKILL to it would orphan the command.
    await commandStarted(init, interrupts, (signal) => (signal === 'SIGKILL' ? KILL_EXEC_SIGNAL : signal));
    if (home !== null) leaveContainerGroup(init.pid, home, log, flags.debug);
    const exit = await followToExit(init, terminal?.relay(), [relayedStdio]);
    io.onExit?.(exit);
    return exitStatus(exit);
  } catch (err) {
    if (init && init.child.exitCode === null && init.child.signalCode === null) {
      init.child.kill(KILL_EXEC_SIGNAL);
      await init.exited;
    }
    throw err;
  } finally {
    terminal?.close();
    relay?.close();
    interrupts.stop();
    io.abort?.removeEventListener('abort', onAbort);
  }
}

/**
 * The exec-init joined the container's group only so that its command is born there (a child
 * starts in its parent's group, and no instruction of the command may run outside the limits).
 * Once the command runs, the exec-init itself goes back to our group, as runc's exec leaves no
 * runtime process in the container's: when the container's init ends, the group is killed
 * (cgroup.kill), and an exec-init still in it would die before it reports a command that had
 * already ended (`tsbox exec C kill 1` reported 137 instead of 0). Its command, and everything
 * the command starts, stays in the container's group. Failing to move only keeps the old place.
 */
function leaveContainerGroup(pid: number, home: string, log: Logger, debug: boolean): void {
  try {
    writeFileSync(join(home, 'cgroup.procs'), String(pid));
    if (debug) log.debug({ step: 'leave cgroup', cgroup: home, pid }, `write ${join(home, 'cgroup.procs')}: ${pid}`);
  } catch (err) {
    log.debug({ step: 'leave cgroup', cgroup: home, pid }, `the exec-init stays in the container's group: ${(err as Error).message}`);
  }
}
