/**
 * A run from a validated spec, as the CLI and the API (src/api/run.ts) both start it:
 * foreground (the record, the run, the --stats-file report) or detached (the monitor).
 * Moved out of src/index.ts so that the CLI's bundle does not load the API.
 */
import { createLogger, type Logger } from '../log.js';
import type { RunSpec } from '../spec/run-spec.js';
import { runTracked } from './lifecycle.js';
import type { RunResult } from './run.js';
import { writeStatsReport } from './stats-file.js';

/** Run a container from a spec made by buildRunSpec, to its end; write the --stats-file report. */
export async function runWithSpec(spec: RunSpec, logger?: Logger, opts: { abort?: AbortSignal } = {}): Promise<RunResult> {
  const log = logger ?? createLogger(spec.log.level, spec.log.format, { container: spec.shortId }, spec.log.explain);
  const result = await runTracked(spec, log, { abort: opts.abort });
  writeStatsReport(spec, result);
  return result;
}

/** Start a container in the background (-d) from a spec: resolves with its id once its command runs. */
export async function runDetachedWithSpec(spec: RunSpec): Promise<{ id: string; pid: number }> {
  const { startDetached } = await import('./detach.js');
  return startDetached(spec);
}

/** tsbox create: resolves with its id once the container is created, its init held by its monitor until `tsbox start`. */
export async function createHeldWithSpec(spec: RunSpec): Promise<{ id: string; pid: number }> {
  const { startDetached } = await import('./detach.js');
  return startDetached(spec, { hold: true });
}
