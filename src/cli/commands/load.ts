/** tsbox load -i ARCHIVE[:NAME]: an image archive (any format tsbox runs) into the image store. */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { parseSize } from '../../spec/units.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function loadCommand(): Command {
  return addCommonOptions(
    new Command('load')
      .description('load an image from a docker-archive, oci-archive, OCI layout or dir: directory (gzip/zstd/xz compressed too)')
      .requiredOption('-i, --input <archive>', 'the archive; ARCHIVE:NAME picks one image of several')
      .option('--max-rootfs-size <size>', 'refuse layers that extract to more than this (default 64g)')
      .action(async (flags: CommonOptions & { input: string; maxRootfsSize?: string }) => {
        // Loaded on use: tsbox run's start does not pay for the image store or the registry client.
        const { DEFAULT_MAX_ROOTFS_SIZE } = await import('../../image/index.js');
        const { loadImage } = await import('../../image/oci/load.js');
        const maxBytes = flags.maxRootfsSize === undefined ? DEFAULT_MAX_ROOTFS_SIZE : parseSize(flags.maxRootfsSize, '--max-rootfs-size');
        const res = await loadImage(flags.input, { root: resolveRoot(flags.root), maxBytes, log: createLogger(flags.logLevel, flags.logFormat) });
        if (res.kind === 'rootfs') {
          throw new UsageError(`${flags.input} is not an image archive (it looks like a root filesystem)`, { step: 'load image', hint: 'Run a rootfs directly: tsbox run ROOTFS CMD.' });
        }
        const names = res.record.repoTags.length > 0 ? res.record.repoTags : [res.record.id];
        for (const n of names) writeLine(1, `Loaded image: ${n}`);
      }),
  );
}
