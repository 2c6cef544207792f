/** tsbox prune: remove stopped containers, then the cache entries nothing uses any more. */
import { Command } from 'commander';
import { formatBytes } from '../../cgroups/size.js';
import { pruneCache, pruneStoppedContainers } from '../../runtime/prune.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function pruneCommand(): Command {
  const cmd = new Command('prune')
    .description('remove stopped containers and unused rootfs cache entries')
    .action(async (flags: CommonOptions) => {
      const store = storeFor(flags.root);
      const containers = pruneStoppedContainers(store);
      for (const c of containers) writeLine(1, `removed container ${c}`);
      const entries = await pruneCache(store, resolveRoot(flags.root));
      for (const e of entries) writeLine(1, `removed rootfs ${e.digest}`);
      writeLine(1, `removed ${containers.length} container(s), ${entries.length} cache entr${entries.length === 1 ? 'y' : 'ies'} (${formatBytes(entries.reduce((n, e) => n + (e.size ?? 0), 0))})`);
    });
  return addCommonOptions(cmd);
}
