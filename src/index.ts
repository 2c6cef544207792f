/**
 * The programmatic API: `import { run } from 'tsbox'`. The CLI is a thin layer over it.
 */
import { createLogger, type Logger } from './log.js';
import { runTracked } from './runtime/lifecycle.js';
import { writeStatsFile } from './runtime/stats-file.js';
import type { RunResult } from './runtime/run.js';
import type { RunSpec } from './spec/run-spec.js';
import { buildRunSpec } from './spec/run-spec.js';
import type { RunOptions } from './spec/schema.js';

export type { RunOptions } from './spec/schema.js';
export type { RunResult } from './runtime/run.js';
export type { RunSpec } from './spec/run-spec.js';
export { TsboxError, UsageError, CommandError } from './errors.js';

/** Start a container in the background (-d): resolves with its id once its command runs. */
export async function runDetached(options: RunOptions): Promise<{ id: string; pid: number }> {
  const spec = await buildRunSpec({ ...options, detach: true });
  const { startDetached } = await import('./runtime/detach.js');
  return startDetached(spec);
}

/**
 * Run a container to completion. Resolves with the command's exit status (128+N when a
 * signal N ended it) and, where the host has a cgroup v2 hierarchy, its resource use.
 * Rejects with a TsboxError (with .step, .hint, .exitCode) when tsbox itself fails.
 */
export async function run(options: RunOptions, logger?: Logger): Promise<RunResult> {
  return runWithSpec(await buildRunSpec(options), logger);
}

/** Run a container from a spec made by buildRunSpec (what the CLI does). */
export async function runWithSpec(spec: RunSpec, logger?: Logger): Promise<RunResult> {
  const log = logger ?? createLogger(spec.log.level, spec.log.format, { container: spec.shortId });
  const result = await runTracked(spec, log);
  await writeStatsFile(spec, result);
  return result;
}
