/** tsbox wait NAME...: block until containers exit, print their exit codes. */
import { Command } from 'commander';
import { waitForExit } from '../../runtime/control.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { forEachContainer } from './each-container.js';

export function waitCommand(): Command {
  const cmd = new Command('wait')
    .description('wait for containers to exit and print their exit codes')
    .argument('<container...>', 'names, ids or unique id prefixes')
    .action(async (refs: string[], flags: CommonOptions) => {
      const store = storeFor(flags.root);
      await forEachContainer(refs, async (ref) => {
        const r = await waitForExit(store, store.resolve(ref).shortId);
        writeLine(1, String(r!.exitCode ?? ''));
      });
    });
  return addCommonOptions(cmd);
}
