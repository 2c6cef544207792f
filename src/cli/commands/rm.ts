/** tsbox rm [-f] NAME...: remove stopped containers (-f: kill running ones first). */
import { Command } from 'commander';
import { removeContainer } from '../../runtime/control.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { forEachContainer } from './each-container.js';

export function rmCommand(): Command {
  const cmd = new Command('rm')
    .description('remove containers')
    .argument('<container...>', 'names, ids or unique id prefixes')
    .option('-f, --force', 'kill a running container first', false)
    .action(async (refs: string[], flags: CommonOptions & { force: boolean }) => {
      const store = storeFor(flags.root);
      await forEachContainer(refs, async (ref) => {
        await removeContainer(store, store.resolve(ref), flags.force);
        writeLine(1, ref);
      });
    });
  return addCommonOptions(cmd);
}
