/**
 * How a run or an exec ended, as the API reports it. Pure, so every case is unit-tested
 * (tests/unit/api-outcome.test.ts).
 *
 * The command's own statuses are results, never rejections: 126 and 127 (it could not be
 * run), 128+N (a signal ended it, or interrupted tsbox before it started). Only tsbox's
 * own failures (125) reject the promise.
 */
import { constants } from 'node:os';
import type { TsboxError } from '../errors.js';

export type EndReason = 'exited' | 'signaled' | 'timeout' | 'aborted' | 'oom';

/** Why the API stopped the container itself, if it did. */
export type StoppedBy = 'timeout' | 'aborted' | null;

export interface EndFacts {
  exitCode: number;
  signal: NodeJS.Signals | null;
  oomKilled: boolean;
  /** The API's timeout or AbortSignal fired (it may have fired just after the command ended on its own). */
  stoppedBy: StoppedBy;
  /** The command ran (it passed the init's exec); false when setup was stopped or failed. */
  started: boolean;
}

export function endReason(f: EndFacts): EndReason {
  // A stop counts only if it is what ended the command: our SIGKILL, or setup cut short.
  // A command that exited 0 a moment before the timer fired exited.
  if (f.stoppedBy !== null && (f.signal === 'SIGKILL' || !f.started)) return f.stoppedBy;
  if (f.oomKilled) return 'oom';
  return f.signal !== null ? 'signaled' : 'exited';
}

/**
 * A failure that is the command's status rather than tsbox's: 126/127 from the init
 * (not executable, not found), 128+N when a signal interrupted the setup. Null for 125.
 */
export function statusOfFailure(err: TsboxError, stoppedBy: StoppedBy): { exitCode: number; signal: NodeJS.Signals | null } | null {
  if (stoppedBy !== null) return { exitCode: 128 + constants.signals.SIGKILL, signal: 'SIGKILL' };
  if (err.exitCode === 126 || err.exitCode === 127) return { exitCode: err.exitCode, signal: null };
  if (err.exitCode > 128) return { exitCode: err.exitCode, signal: signalName(err.exitCode - 128) };
  return null;
}

function signalName(n: number): NodeJS.Signals | null {
  const found = Object.entries(constants.signals).find(([, v]) => v === n);
  return found ? (found[0] as NodeJS.Signals) : null;
}
