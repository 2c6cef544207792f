/** tsbox stop [-t SECONDS] NAME...: SIGTERM, then SIGKILL after the grace period. */
import { Command } from 'commander';
import { stopContainer } from '../../runtime/control.js';
import { parseNonNegativeInt, storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { forEachContainer } from './each-container.js';

export function stopCommand(): Command {
  const cmd = new Command('stop')
    .description('stop containers: SIGTERM, then SIGKILL after a grace period')
    .argument('<container...>', 'names, ids or unique id prefixes')
    .option('-t, --time <seconds>', 'seconds to wait before SIGKILL', '10')
    .action(async (refs: string[], flags: CommonOptions & { time: string }) => {
      const store = storeFor(flags.root);
      const seconds = parseNonNegativeInt(flags.time, '-t/--time');
      await forEachContainer(refs, async (ref) => {
        await stopContainer(store, store.resolve(ref), seconds);
        writeLine(1, ref);
      });
    });
  return addCommonOptions(cmd);
}
