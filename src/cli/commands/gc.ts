/** tsbox gc: reclaim what killed runs left behind (every command also does this first). */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { TsboxError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { reclaimDeadRuns } from '../../runtime/gc.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

/** network/ipam/store.ts DEFAULT_PATHS.leases, repeated: gc does not load the network code unless it is needed. */
const DEFAULT_PATHS_LEASES = '/run/tsbox-net/leases';

export function gcCommand(): Command {
  const cmd = new Command('gc')
    .description('remove the directories, cgroups and partial extractions of runs whose tsbox was killed')
    .action(async (flags: CommonOptions) => {
      const log = createLogger(flags.debug ? 'debug' : flags.logLevel, flags.logFormat);
      const report = await reclaimDeadRuns(resolveRoot(flags.root), log, { warnFailures: false });
      // Leases of killed runs that no container directory recorded (network/gc.ts); loaded only when leases exist.
      if (existsSync(DEFAULT_PATHS_LEASES)) {
        const [{ reclaimAllDeadLeases }, { netContext }] = await Promise.all([import('../../network/gc.js'), import('../../network/context.js')]);
        reclaimAllDeadLeases(netContext());
      }
      writeLine(1, `reclaimed ${report.containers.length} container(s), ${report.imageTemps} partial extraction(s)` + (report.emptyCgroups.length > 0 ? `, ${report.emptyCgroups.length} empty cgroup(s)` : ''));
      // What could not be removed stays for the next gc; say what, in one line, and fail.
      const first = report.failed[0];
      if (first) {
        const more = report.failed.length > 1 ? ` (and ${report.failed.length - 1} more)` : '';
        throw new TsboxError(`could not remove ${first.what}: ${first.error}${more}`, { step: 'gc', hint: 'Run `tsbox gc` again; if it keeps failing, --log-level debug shows why.' });
      }
    });
  return addCommonOptions(cmd);
}
