/**
 * `run`: create + start + wait + delete in one foreground command. Unlike create, we stay
 * the init's parent: we reap it, pass on SIGINT/SIGTERM/SIGHUP/SIGQUIT, and exit with its
 * status (128+N for a signal N).
 */
import { constants } from 'node:os';
import { createContainer, type CreateOptions } from './create.js';
import { deleteContainer, startContainer } from './lifecycle.js';
import type { RuntimeLog } from './runtime-log.js';
import type { StateRoot } from './state-dir.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;

export async function runContainer(state: StateRoot, id: string, opts: CreateOptions, log: RuntimeLog): Promise<number> {
  const { init } = await createContainer(state, id, opts, log);
  const forward = (sig: NodeJS.Signals) => init.child.kill(sig);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    await startContainer(state, id, log);
    const exit = await init.exited;
    return exit.code ?? 128 + (constants.signals[exit.signal!] ?? 0);
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
    await deleteContainer(state, id, true, log);
  }
}
