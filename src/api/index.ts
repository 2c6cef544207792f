/** The programmatic API, re-exported by src/index.ts (`import { run } from 'tsbox'`). Documented in docs/api.md. */
export { run, runDetached, type RunOptions, type DetachedRunOptions, type RunResult, type RunProcess } from './run.js';
export { exec, type ExecOptions, type ExecResult, type ExecProcess } from './exec.js';
export { ps, inspect, logs, stop, kill, rm, wait, stats, type ContainerSummary, type ContainerRecord, type ContainerDetails, type Logs, type StatsRow } from './containers.js';
export type { EndReason } from './outcome.js';
export type { ProcessHandle } from './handle.js';
export type { OutputMode, InputMode } from './stdio.js';
export type { RootOptions, PsOptions, StopOptions, KillOptions, RmOptions, WaitOptions, LogsOptions, StatsOptions } from './options.js';
