/** tsbox logs [-f] [--tail N] [--since T] [--until T] [-t] NAME */
import { Command } from 'commander';
import { printLogs } from '../../runtime/control.js';
import { parseLogTime } from '../../runtime/log-format.js';
import { parseNonNegativeInt, storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';

interface LogsFlags extends CommonOptions {
  follow: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps: boolean;
}

export function logsCommand(): Command {
  const cmd = new Command('logs')
    .description('print the output of a detached or named container (kept in its state directory)')
    .argument('<container>', 'name, id or unique id prefix')
    .option('-f, --follow', 'keep printing new output until the container exits', false)
    .option('-n, --tail <lines>', 'only the last lines ("all" for every line)')
    .option('--since <time>', 'only lines since a time: RFC 3339 (2024-01-02T15:04:05Z), Unix seconds, or a duration ago (10m, 1h30m)')
    .option('--until <time>', 'only lines before a time (same forms as --since)')
    .option('-t, --timestamps', 'show the time each line was written (RFC 3339, nanoseconds, UTC)', false)
    .action(async (ref: string, flags: LogsFlags) => {
      const store = storeFor(flags.root);
      const tail = flags.tail === undefined || flags.tail === 'all' ? null : parseNonNegativeInt(flags.tail, '--tail');
      const now = Date.now();
      const since = flags.since === undefined ? null : parseLogTime(flags.since, '--since', now);
      const until = flags.until === undefined ? null : parseLogTime(flags.until, '--until', now);
      await printLogs(store, store.resolve(ref), { follow: flags.follow, tail, since, until, timestamps: flags.timestamps });
    });
  return addCommonOptions(cmd);
}
