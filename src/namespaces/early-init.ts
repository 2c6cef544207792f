/**
 * The init spawned at the very start of `tsbox run`, before the CLI is even loaded (see
 * cli/main.ts). Its stdio is guessed from the command line; the run takes it only if the
 * validated spec wants exactly that stdio, and otherwise spawns its own. Either way an
 * early init that is not taken is killed and reaped: it holds nothing but its namespaces.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnInitInNamespaces, type StdioChoice } from './spawn-init.js';

export type Stdio = [StdioChoice, StdioChoice, StdioChoice];

const INHERITED: Stdio = ['inherit', 'inherit', 'inherit'];
/** With a terminal the init gets none of the host's stdio: it attaches the container's pty. */
const TERMINAL: Stdio = ['ignore', 'ignore', 'ignore'];

/**
 * The stdio a foreground `tsbox run` will most likely ask for, or null when an early init
 * would be wasted or would hide steps: not `run`, detached (-d), --help, or --debug (which
 * logs every syscall of the spawn). A wrong guess costs an unused process, never a wrong run.
 */
export function wantsEarlyInit(args: string[], stdinIsTty: boolean): Stdio | null {
  if (args[0] !== 'run') return null;
  const skip = args.some((a) => a === '--detach' || a === '--debug' || a === '--help' || a === '-h' || /^-[a-zA-Z]*d[a-zA-Z]*$/.test(a));
  if (skip) return null;
  return stdinIsTty && !args.includes('--no-tty') ? TERMINAL : INHERITED;
}

/** Holds at most one spawned init until a run takes it or the CLI discards it. */
export class EarlyInitSlot {
  private held: { child: ChildProcess; stdio: Stdio } | null = null;

  put(child: ChildProcess, stdio: Stdio): void {
    this.held = { child, stdio };
  }

  /** The held init, if it is alive and has the stdio the run needs; any other is killed. */
  take(stdio: Stdio): ChildProcess | null {
    const held = this.held;
    this.held = null;
    if (!held) return null;
    if (isAlive(held.child) && held.stdio.every((s, i) => s === stdio[i])) return held.child;
    if (isAlive(held.child)) held.child.kill('SIGKILL');
    return null;
  }

  /** Kill and reap an init no run took (bad input, a different stdio). */
  async discard(): Promise<void> {
    const held = this.held;
    this.held = null;
    if (!held || !isAlive(held.child)) return;
    const exited = new Promise((resolve) => held.child.once('exit', resolve));
    held.child.kill('SIGKILL');
    await exited;
  }
}

const isAlive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

const slot = new EarlyInitSlot();

export async function spawnInitEarly(stdio: Stdio): Promise<void> {
  try {
    slot.put(await spawnInitInNamespaces(stdio), stdio);
  } catch {
    // the run spawns its own init, and reports a failure with its step
  }
}

export const takeEarlyInit = (stdio: Stdio): ChildProcess | null => slot.take(stdio);
export const discardEarlyInit = (): Promise<void> => slot.discard();
