/**
 * --stats-file: the resource report of a run, as one JSON document, written when the
 * container has exited: by tsbox run in the foreground, by the monitor with -d.
 * Unmeasured values are null (cgroups/stats.ts).
 */
import { writeFile } from 'node:fs/promises';
import { statsRecord } from '../cgroups/stats.js';
import type { RunSpec } from '../spec/run-spec.js';
import type { RunResult } from './run.js';

export async function writeStatsFile(spec: RunSpec, result: RunResult): Promise<void> {
  if (!spec.report.statsFile) return;
  const record = { id: result.id, exitCode: result.exitCode, oomKilled: result.oomKilled, ...statsRecord(result.stats, result.wallMs) };
  await writeFile(spec.report.statsFile, `${JSON.stringify(record, null, 2)}\n`);
}
