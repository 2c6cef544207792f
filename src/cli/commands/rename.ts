/** tsbox rename OLD NEW: a new name for a container, running or not (as docker). */
import { Command } from 'commander';
import { checkName } from '../../runtime/state/record.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';

export function renameCommand(): Command {
  const cmd = new Command('rename')
    .description('rename a container')
    .argument('<container>', 'name, id or unique id prefix')
    .argument('<new-name>', 'the new name: letters, digits, _ . -')
    .action((ref: string, newName: string, flags: CommonOptions) => {
      storeFor(flags.root).rename(ref, checkName(newName, 'name'));
    });
  return addCommonOptions(cmd);
}
