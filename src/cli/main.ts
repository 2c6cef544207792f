/**
 * The CLI program (dist/tsbox.cjs), started by bin/tsbox through dist/start.cjs.
 *
 * `tsbox run` spawns the container's init before anything else: a Node process takes
 * ~20 ms to boot, about as long as tsbox needs to load and validate its command line, so
 * the two overlap. The rest of the CLI is imported afterwards (in the bundle, its modules
 * are evaluated only then). An init that the run does not use is killed before exit.
 */
import { isatty } from 'node:tty';
import { discardEarlyInit, spawnInitEarly, wantsEarlyInit } from '../namespaces/early-init.js';

export async function start(): Promise<never> {
  const early = wantsEarlyInit(process.argv.slice(2), isatty(0), isatty(1) || isatty(2));
  if (early) await spawnInitEarly(early);
  const { main } = await import('./program.js');
  const code = await main(process.argv);
  await discardEarlyInit();
  process.exit(code);
}

/**
 * For the build's code cache (scripts/bundle.mjs): evaluate the lazily imported part too,
 * and walk the pure part of a default `tsbox run` (code-cache-warmup.ts), so that the
 * functions it calls are in the cache instead of being compiled at every start.
 */
export async function prepareCodeCache(): Promise<void> {
  await import('./program.js');
  const { warmUpRunPath } = await import('./code-cache-warmup.js');
  try {
    await warmUpRunPath();
  } catch (err) {
    // A cache without the run path is slower, never wrong: say so and build on.
    process.stderr.write(`tsbox build: code cache warm-up failed, the cache holds less: ${(err as Error).message}\n`);
  }
}
