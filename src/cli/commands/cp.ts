/**
 * tsbox cp [-a] [-L] SRC NAME:DEST | NAME:SRC DEST: copy files between the host and a
 * running container (runtime/cp/). Every container path is resolved inside the container.
 */
import { Command } from 'commander';
import { copyFiles } from '../../runtime/cp/index.js';
import { planCpJob } from '../../runtime/cp/plan.js';
import { UsageError } from '../../errors.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function cpCommand(): Command {
  const cmd = new Command('cp')
    .description('copy files or directories between a running container and the host')
    .argument('<src>', 'HOST_PATH, or NAME:PATH in a container')
    .argument('<dest>', 'NAME:PATH in a container, or HOST_PATH')
    .option('-a, --archive', 'keep the files\' uid and gid (default: owned by root, the user tsbox runs as)', false)
    .option('-L, --follow-link', 'follow a symlink given as the source (inside the container, for a container path)', false)
    .action((src: string, dest: string, flags: CommonOptions & { archive: boolean; followLink: boolean }) => {
      const job = planCpJob(src, dest);
      if (job.dest === null) throw new UsageError('writing a tar stream to stdout ("-" as destination) is not supported yet', { hint: 'Copy to a host directory, then tar it.' });
      copyFiles(storeFor(flags.root), { ...job, dest: job.dest }, { archive: flags.archive, followLink: flags.followLink, warn: (m) => writeLine(2, `tsbox: cp: ${m}`) });
    });
  return addCommonOptions(cmd);
}
