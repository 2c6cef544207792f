/** tsbox save -o ARCHIVE IMAGE: a docker-archive that podman load and docker load accept. */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { addCommonOptions, type CommonOptions } from '../options.js';

export function saveCommand(): Command {
  return addCommonOptions(
    new Command('save')
      .description('write an image as a docker-archive (layers written again from the store: the image id may change)')
      .requiredOption('-o, --output <archive>', 'the archive to write')
      .argument('<image>', 'name or id')
      .action(async (name: string, flags: CommonOptions & { output: string }) => {
        // Loaded on use: tsbox run's start does not pay for the image store or the registry client.
        const { listRecords, resolveImage } = await import('../../image/oci/image-store.js');
        const { saveImage } = await import('../../image/oci/save.js');
        const root = resolveRoot(flags.root);
        const found = resolveImage(await listRecords(root), name);
        if ('error' in found) throw new UsageError(found.error, { step: 'save', hint: "See 'tsbox images'." });
        await saveImage(root, found, resolve(flags.output));
      }),
  );
}
