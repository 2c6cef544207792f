/**
 * Signals sent to tsbox. Before the container's command runs, they abort the setup
 * (which then unwinds); once it runs, they are forwarded to it, as docker does for
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2.
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { TsboxError } from '../errors.js';
import type { Logger } from '../log.js';

export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

export interface SignalRouting {
  /** Called once when the first signal arrives during setup. */
  onInterrupt(fn: () => void): void;
  /** Aborted by the first signal during setup: long steps (extraction) stop on it. */
  readonly aborted: AbortSignal;
  /** Throws if a signal interrupted the setup. */
  check(): void;
  /**
   * From now on signals go to `child`; `as` may name another signal to send in place of one
   * (an exec's SIGKILL must reach the command through its exec-init, not kill the relay).
   */
  forwardTo(child: ChildProcess, as?: (signal: NodeJS.Signals) => NodeJS.Signals): void;
  /**
   * Act as if tsbox had received `signal`: the programmatic API's timeout and AbortSignal
   * (src/api/) stop a run through the same path as Ctrl-C, so setup unwinds the same way.
   */
  deliver(signal: NodeJS.Signals): void;
  stop(): void;
}

export function forwardSignals(log: Logger): SignalRouting {
  let target: ChildProcess | null = null;
  let translate: (signal: NodeJS.Signals) => NodeJS.Signals = (signal) => signal;
  let interrupted: NodeJS.Signals | null = null;
  let onInterrupt: (() => void) | null = null;
  const abort = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    if (target) {
      log.debug({ signal }, 'forwarding signal to the container');
      target.kill(translate(signal));
      return;
    }
    if (interrupted === null) {
      interrupted = signal;
      abort.abort();
      onInterrupt?.();
    }
  };
  for (const s of FORWARDED_SIGNALS) process.on(s, handler);
  return {
    onInterrupt: (fn) => (onInterrupt = fn),
    aborted: abort.signal,
    check() {
      if (interrupted) {
        throw new TsboxError(`interrupted by ${interrupted} during setup`, { step: 'setup', exitCode: 128 + constants.signals[interrupted] });
      }
    },
    forwardTo(child, as) {
      target = child;
      if (as) translate = as;
    },
    deliver: handler,
    stop() {
      for (const s of FORWARDED_SIGNALS) process.off(s, handler);
    },
  };
}
