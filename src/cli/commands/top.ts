/** tsbox top NAME [ps OPTIONS]: the container's processes, as `ps -ef` shows them (or as ps OPTIONS do). */
import { Command } from 'commander';
import { containerTop } from '../../runtime/top/index.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function topCommand(): Command {
  const cmd = new Command('top')
    .description("show a running container's processes: UID PID PPID C STIME TTY TIME CMD (ps -ef), or the host ps's columns for given ps options")
    .argument('<container>', 'name, id or unique id prefix')
    .argument('[ps-options...]', 'options for the host\'s ps, e.g. aux or -o pid,comm (default: the ps -ef columns, read from /proc)')
    .passThroughOptions()
    .action((ref: string, psArgs: string[], flags: CommonOptions) => {
      writeLine(1, containerTop(storeFor(flags.root), ref, psArgs));
    });
  return addCommonOptions(cmd);
}
