/** tsbox inspect NAME...: the record, the spec, and the live mounts of each container, as JSON. */
import { Command } from 'commander';
import { inspectContainer } from '../../runtime/inspect.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function inspectCommand(): Command {
  const cmd = new Command('inspect')
    .description('show everything tsbox knows about containers, as JSON')
    .argument('<container...>', 'names, ids or unique id prefixes')
    .action((refs: string[], flags: CommonOptions) => {
      const store = storeFor(flags.root);
      writeLine(1, JSON.stringify(refs.map((ref) => inspectContainer(store, ref)), null, 2));
    });
  return addCommonOptions(cmd);
}
