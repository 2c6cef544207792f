/**
 * The init spawned at the very start of `tsbox run`, before the CLI is even loaded (see
 * cli/main.ts), with the container's id chosen then and its cgroup made and joined then
 * (cgroups/early-group.ts). Its stdio is guessed from the command line; the run takes it
 * only if the validated spec wants exactly that stdio, and otherwise spawns its own.
 * Either way an early init that is not taken is killed and reaped, and its group removed.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { createEarlyGroup, removeEarlyGroup, type EarlyGroup } from '../cgroups/early-group.js';
import { scanRunArgs } from '../cli/run-argv.js';
import { spawnInitInNamespaces, type StdioChoice } from './spawn-init.js';
import type { TracedCall } from '../sys/libc.js';

export type Stdio = [StdioChoice, StdioChoice, StdioChoice];

const INHERITED: Stdio = ['inherit', 'inherit', 'inherit'];
/** With a terminal the init gets none of the host's stdio: it attaches the container's pty. */
const TERMINAL: Stdio = ['ignore', 'ignore', 'ignore'];

export interface EarlyWish {
  stdio: Stdio;
  /** --cgroup-parent as given (validated when the group is made); undefined for the default. */
  cgroupParent: string | undefined;
  /** --debug or --explain: keep the calls that make the namespaces, for the run to show. */
  traced?: boolean;
}

/**
 * The stdio a foreground `tsbox run` will most likely ask for, and the cgroup parent it
 * names, read with run's own option rules (cli/run-argv.ts); or null when an early init
 * would be wasted: not `run`, detached (-d), --help, or does not fit: --network host or container:. A wrong guess costs an unused process
 * (and group), never a wrong run.
 */
export function wantsEarlyInit(args: string[], stdinIsTty: boolean, outputIsTty = false): EarlyWish | null {
  if (args[0] !== 'run') return null;
  const argv = scanRunArgs(args.slice(1));
  if (argv.detach || argv.help) return null;
  // --network host / container:NAME: the init must not be born in a new net namespace.
  if (argv.network === 'host' || argv.network?.startsWith('container:')) return null;
  if (stdinIsTty && argv.tty !== false) return { stdio: TERMINAL, cgroupParent: argv.cgroupParent, traced: argv.traced };
  // Without a pty, a terminal among our stdio is relayed through pipes (runtime/stdio-relay.ts):
  // an init inheriting it would not fit, and must not hold the user's terminal either.
  if (stdinIsTty || outputIsTty) return null;
  return { stdio: INHERITED, cgroupParent: argv.cgroupParent, traced: argv.traced };
}

export interface EarlyInit {
  child: ChildProcess;
  stdio: Stdio;
  /** The container id chosen with it (64 hex digits); the group is named by its first 12. */
  id: string;
  group: EarlyGroup | null;
  /** The calls that made its namespaces, when the command line asked for a trace. */
  calls: TracedCall[];
}

/** Holds at most one spawned init until a run takes it or the CLI discards it. */
export class EarlyInitSlot {
  private held: EarlyInit | null = null;

  constructor(private readonly removeGroup: (group: EarlyGroup) => void = removeEarlyGroup) {}

  put(early: EarlyInit): void {
    this.held = early;
  }

  get id(): string | undefined {
    return this.held?.id;
  }

  /**
   * What the run gets: the init, if it is alive and has the stdio the run needs (one that
   * does not fit is killed), and the group made for it, which the run adopts or removes.
   */
  take(stdio: Stdio): { init: ChildProcess | null; group: EarlyGroup | null; calls: TracedCall[] } | null {
    const held = this.held;
    this.held = null;
    if (!held) return null;
    if (isAlive(held.child) && held.stdio.every((s, i) => s === stdio[i])) return { init: held.child, group: held.group, calls: held.calls };
    void this.kill({ ...held, group: null });
    return { init: null, group: held.group, calls: [] };
  }

  /** Kill and reap an init no run took (bad input, a different stdio), and remove its group. */
  async discard(): Promise<void> {
    const held = this.held;
    this.held = null;
    if (held) await this.kill(held);
  }

  private async kill(early: EarlyInit): Promise<void> {
    if (isAlive(early.child)) {
      const exited = new Promise((resolve) => early.child.once('exit', resolve));
      early.child.kill('SIGKILL');
      await exited;
    }
    if (early.group) this.removeGroup(early.group);
  }
}

const isAlive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

const slot = new EarlyInitSlot();

export async function spawnInitEarly({ stdio, cgroupParent, traced }: EarlyWish): Promise<void> {
  let child: ChildProcess;
  const calls: TracedCall[] = [];
  try {
    child = await spawnInitInNamespaces(stdio, { kind: 'new' }, traced ? calls : undefined);
  } catch {
    return; // the run spawns its own init, and reports a failure with its step
  }
  const id = randomId();
  slot.put({ child, stdio, id, group: createEarlyGroup(id.slice(0, 12), child.pid!, cgroupParent), calls });
}

/**
 * 64 hex digits from the kernel's random source. Read from /dev/urandom rather than with
 * node:crypto, which Node loads (fifteen modules) on first use: the id is the only thing a
 * warm `tsbox run` would need it for (scripts/bundle.mjs loads crypto lazily).
 */
export function randomId(): string {
  const bytes = Buffer.alloc(32);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, bytes, 0, 32, null) === 32) return bytes.toString('hex');
    } finally {
      closeSync(fd);
    }
  } catch {
    // no /dev/urandom (an unusual host): crypto has the same source
  }
  return randomBytes(32).toString('hex');
}

/** The id of the container the early init is for, to build the run's spec with. */
export const earlyContainerId = (): string | undefined => slot.id;
export const takeEarlyInit = (stdio: Stdio): ReturnType<EarlyInitSlot['take']> => slot.take(stdio);
export const discardEarlyInit = (): Promise<void> => slot.discard();
