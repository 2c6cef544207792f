/**
 * Holds create's early init (early-guess.ts says why and how it is guessed): spawned at
 * start-up, taken by create if its placement is the one the validated plan asks for, and
 * otherwise killed. Loads the FFI: imported by main.ts for `create` only.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { spawnInitInNamespaces } from '../../namespaces/spawn-init.js';
import type { InitPlacement, NsChoice } from '../../namespaces/placement.js';
import type { EarlyGuess } from './early-guess.js';

let held: { key: string; child: ChildProcess } | null = null;

export async function spawnEarlyInit(guess: EarlyGuess): Promise<void> {
  const host: NsChoice = { kind: 'host' };
  const placement: InitPlacement = { net: host, pid: host, ipc: host, uts: host };
  for (const t of guess.news) placement[t] = { kind: 'new' };
  const fds: number[] = [];
  try {
    for (const j of guess.joins) {
      const fd = openSync(j.path, 'r');
      fds.push(fd);
      placement[j.type] = { kind: 'join', fd, what: `the ${j.type} namespace ${j.path}` };
    }
    const stdio = guess.terminal ? (['ignore', 'ignore', 'ignore'] as const) : (['inherit', 'inherit', 'inherit'] as const);
    held = { key: guess.key, child: await spawnInitInNamespaces([...stdio], placement) };
  } catch {
    held = null; // create spawns its own and reports a failure with its step
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
}

/** The early init if it is alive and was born where `key` says; one that does not fit is killed. */
export function takeEarlyInit(key: string): ChildProcess | null {
  const h = held;
  held = null;
  if (h === null) return null;
  if (h.key === key && h.child.exitCode === null && h.child.signalCode === null) return h.child;
  h.child.kill('SIGKILL');
  return null;
}

/** create failed before taking it: it must not outlive us (it also dies with us: PDEATHSIG, or EOF on its socket). */
export function discardEarlyInit(): void {
  held?.child.kill('SIGKILL');
  held = null;
}
