/**
 * tsbox-runtime (bin/tsbox-runtime, dist/runtime.cjs): parse, run one command, render a
 * failure once (stderr and --log), exit. process.exit at the end: a created container's
 * init was our child, and nothing of ours may wait for it.
 */
import { CommanderError } from 'commander';
import { EXIT_TSBOX_ERROR, asTsboxError } from '../../errors.js';
import { buildProgram, loadAllCommands, type Outcome } from './program.js';
import { openRuntimeLog } from './runtime-log.js';

export async function start(): Promise<void> {
  const outcome: Outcome = { exitCode: 0 };
  const program = buildProgram(outcome);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed it already (help and --version are exit status 0)
      if (err.exitCode !== 0) (outcome.log ?? openRuntimeLog(undefined, 'text', false)).error({}, err.message);
      process.exit(err.exitCode === 0 ? 0 : EXIT_TSBOX_ERROR);
    }
    (outcome.log ?? openRuntimeLog(undefined, 'text', false)).failure(err);
    process.exit(asTsboxError(err).exitCode);
  }
  process.exit(outcome.exitCode);
}

/** For the build's code cache: the lazily loaded commands are compiled and cached too. */
export async function prepareCodeCache(): Promise<void> {
  await loadAllCommands();
}
