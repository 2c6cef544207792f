/** tsbox logs [-f] [--tail N] NAME */
import { Command } from 'commander';
import { printLogs } from '../../runtime/control.js';
import { parseNonNegativeInt, storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';

export function logsCommand(): Command {
  const cmd = new Command('logs')
    .description('print the output of a detached or named container (kept in its state directory)')
    .argument('<container>', 'name, id or unique id prefix')
    .option('-f, --follow', 'keep printing new output until the container exits', false)
    .option('-n, --tail <lines>', 'only the last lines of each stream')
    .action(async (ref: string, flags: CommonOptions & { follow: boolean; tail?: string }) => {
      const store = storeFor(flags.root);
      const tail = flags.tail === undefined || flags.tail === 'all' ? null : parseNonNegativeInt(flags.tail, '--tail');
      await printLogs(store, store.resolve(ref), { follow: flags.follow, tail });
    });
  return addCommonOptions(cmd);
}
