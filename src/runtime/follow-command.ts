/**
 * The parent's side of a container process once its init has exec'd the command, the same
 * for `tsbox run` (runtime/run.ts, the container's first process) and `tsbox exec`
 * (runtime/exec.ts, one more): signals go to the command instead of ending the setup, and
 * the command is followed to its end, with what its terminal and pipes still carry.
 */
import type { InitConnection, InitExit } from './init-connection.js';
import { drainAfterExit, type OutputCopy } from './output-drain.js';
import { OUTPUT_DRAIN_MS } from './output-log.js';
import type { SignalRouting } from './signals.js';
import { TERMINAL_DRAIN_MS } from './terminal.js';

/**
 * The command runs: from now on a signal tsbox gets goes to it (as `as` maps it). Before this,
 * a signal ends the setup (SignalRouting.onInterrupt).
 */
export async function commandStarted(init: InitConnection, interrupts: SignalRouting, as?: (signal: NodeJS.Signals) => NodeJS.Signals): Promise<void> {
  await init.expectExec();
  interrupts.forwardTo(init.child, as);
}

/**
 * Wait for the command's end. `terminal`: the pty relay, drained briefly (a terminal's last
 * output is in the pty when the process is gone); `pipes`: stdio relays and log copies,
 * which close when the last process holding them is gone. Both are bounded (a daemon the
 * command left behind must not hold tsbox forever), never while bytes are still waiting
 * to be read (output-drain.ts).
 */
export async function followToExit(init: InitConnection, terminal: OutputCopy | undefined, pipes: ReadonlyArray<OutputCopy | undefined>): Promise<InitExit> {
  const exit = await init.exited;
  if (terminal) await drainAfterExit(terminal, TERMINAL_DRAIN_MS);
  for (const pipe of pipes) if (pipe) await drainAfterExit(pipe, OUTPUT_DRAIN_MS);
  return exit;
}
