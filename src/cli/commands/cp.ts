/**
 * tsbox cp [-a] [-L] SRC NAME:DEST | NAME:SRC DEST: copy files between the host and a
 * running container (runtime/cp/); NAME:SRC - writes a tar stream to stdout, - NAME:DIR
 * extracts one from stdin. Every container path is resolved inside the container.
 */
import { Command } from 'commander';
import { copyFiles, streamFromContainer, streamIntoContainer } from '../../runtime/cp/index.js';
import { planCpJob } from '../../runtime/cp/plan.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function cpCommand(): Command {
  const cmd = new Command('cp')
    .description('copy files or directories between a running container and the host')
    .argument('<src>', 'HOST_PATH, NAME:PATH in a container, or - for a tar stream on stdin')
    .argument('<dest>', 'NAME:PATH in a container, HOST_PATH, or - for a tar stream on stdout')
    .option('-a, --archive', 'keep the files\' uid and gid (default: owned by root, the user tsbox runs as)', false)
    .option('-L, --follow-link', 'follow a symlink given as the source (inside the container, for a container path)', false)
    .action(async (src: string, dest: string, flags: CommonOptions & { archive: boolean; followLink: boolean }) => {
      const job = planCpJob(src, dest);
      const opts = { archive: flags.archive, followLink: flags.followLink, warn: (m: string) => writeLine(2, `tsbox: cp: ${m}`) };
      if (job.src === null) await streamIntoContainer(storeFor(flags.root), job.ref, job.dest!, process.stdin, opts);
      else if (job.dest === null) await streamFromContainer(storeFor(flags.root), job.ref, job.src, opts);
      else copyFiles(storeFor(flags.root), { ...job, src: job.src, dest: job.dest }, opts);
    });
  return addCommonOptions(cmd);
}
