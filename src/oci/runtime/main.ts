/**
 * tsbox-runtime (bin/tsbox-runtime, dist/runtime.cjs): parse, run one command, render a
 * failure once (stderr and --log), exit. process.exit at the end: a created container's
 * init was our child, and nothing of ours may wait for it.
 */
import { CommanderError } from 'commander';
import { EXIT_TSBOX_ERROR, asTsboxError } from '../../errors.js';
import { buildProgram, loadAllCommands, type Outcome } from './program.js';
import { guessCreate } from './early-guess.js';
import { openRuntimeLog } from './runtime-log.js';

export async function start(): Promise<void> {
  const outcome: Outcome = { exitCode: 0 };
  // create: the init's Node boots while we load and translate (early-guess.ts).
  const guess = guessCreate(process.argv.slice(2));
  const early = guess ? await import('./early-spawn.js') : null;
  if (guess) await early!.spawnEarlyInit(guess);
  const program = buildProgram(outcome);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed it already (help and --version are exit status 0)
      early?.discardEarlyInit();
      if (err.exitCode !== 0) (outcome.log ?? openRuntimeLog(undefined, 'text', false)).error({}, err.message);
      process.exit(err.exitCode === 0 ? 0 : EXIT_TSBOX_ERROR);
    }
    early?.discardEarlyInit();
    (outcome.log ?? openRuntimeLog(undefined, 'text', false)).failure(err);
    process.exit(asTsboxError(err).exitCode);
  }
  process.exit(outcome.exitCode);
}

/** For the build's code cache: the lazily loaded commands are compiled and cached too. */
export async function prepareCodeCache(): Promise<void> {
  await loadAllCommands();
}
