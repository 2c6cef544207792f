/**
 * The programmatic API: `import { run } from 'tsbox'` (src/api/, documented in docs/api.md).
 * The CLI runs on the same code (runtime/run-and-report.ts, runtime/control.ts), without
 * loading this module.
 */
export * from './api/index.js';
export { TsboxError, UsageError, CommandError } from './errors.js';
export type { CgroupStats } from './cgroups/index.js';
