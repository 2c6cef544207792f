/** tsbox ps [-a] [--format table|json] */
import { Command, Option } from 'commander';
import { describeStatus, formatPsTable } from '../../runtime/state/record.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function psCommand(): Command {
  const cmd = new Command('ps')
    .description('list containers (running ones; -a for all)')
    .option('-a, --all', 'include containers that exited', false)
    .addOption(new Option('--format <format>', 'table, or json (one object per line)').choices(['table', 'json']).default('table'))
    .action((flags: CommonOptions & { all: boolean; format: 'table' | 'json' }) => {
      const now = new Date();
      const records = storeFor(flags.root).list().filter((r) => flags.all || r.status !== 'exited');
      if (flags.format === 'json') {
        for (const r of records) writeLine(1, JSON.stringify({ ...r, state: describeStatus(r, now) }));
      } else {
        writeLine(1, formatPsTable(records, now));
      }
    });
  return addCommonOptions(cmd);
}
