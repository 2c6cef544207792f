/** tsbox gc: reclaim what killed runs left behind (every command also does this first). */
import { Command } from 'commander';
import { createLogger } from '../../log.js';
import { reclaimDeadRuns } from '../../runtime/gc.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function gcCommand(): Command {
  const cmd = new Command('gc')
    .description('remove the directories, cgroups and partial extractions of runs whose tsbox was killed')
    .action(async (flags: CommonOptions) => {
      const log = createLogger(flags.debug ? 'debug' : flags.logLevel, flags.logFormat);
      const report = await reclaimDeadRuns(resolveRoot(flags.root), log);
      writeLine(1, `reclaimed ${report.containers.length} container(s), ${report.imageTemps} partial extraction(s)` + (report.emptyCgroups.length > 0 ? `, ${report.emptyCgroups.length} empty cgroup(s)` : ''));
    });
  return addCommonOptions(cmd);
}
