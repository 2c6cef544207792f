/** tsbox image inspect IMAGE... | image prune | image ls. */
import { join } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { imagesCommand } from './images.js';

export function imageCommand(): Command {
  const image = new Command('image').description('manage images');
  image.addCommand(
    addCommonOptions(
      new Command('inspect')
        .description('the image record and its config, as JSON')
        .argument('<image...>', 'name or id')
        .action(async (names: string[], flags: CommonOptions) => {
          // Loaded on use: tsbox run's start does not pay for the image store or the registry client.
          const { listRecords, readConfigBytes, resolveImage } = await import('../../image/oci/image-store.js');
          const root = resolveRoot(flags.root);
          const records = await listRecords(root);
          const out: unknown[] = [];
          for (const name of names) {
            const found = resolveImage(records, name);
            if ('error' in found) throw new UsageError(found.error, { step: 'image inspect', hint: "See 'tsbox images'." });
            const config = JSON.parse((await readConfigBytes(root, found.id)).toString('utf8')) as Record<string, unknown>;
            out.push({ Id: found.id, RepoTags: found.repoTags, Created: found.created, Size: found.size, RootFS: { Type: 'layers', Layers: found.diffIds }, Source: found.source, Config: config['config'] ?? {}, Architecture: config['architecture'], Os: config['os'] });
          }
          writeLine(1, JSON.stringify(out, null, 2));
        }),
    ),
  );
  image.addCommand(
    addCommonOptions(
      new Command('prune').description('remove layers no image and no container uses, and the partial downloads of interrupted pulls').action(async (flags: CommonOptions) => {
        // Loaded on use: tsbox run's start does not pay for the image store or the registry client.
        const { removeUnreferencedLayers, withImagesLock } = await import('../../image/oci/image-store.js');
        const root = resolveRoot(flags.root);
        const removed = await withImagesLock(root, () => removeUnreferencedLayers(root));
        for (const l of removed) writeLine(1, `Deleted layer: ${l}`);
        writeLine(1, `removed ${removed.length} unused layer${removed.length === 1 ? '' : 's'}`);
        // What killed pulls left to resume from: gone with the prune (a later pull starts over).
        const { removeAbandonedPartials } = await import('../../registry/blob-lock.js');
        const partials = removeAbandonedPartials(join(root, 'blobs', 'incoming'));
        if (partials.length > 0) writeLine(1, `removed ${partials.length} partial download${partials.length === 1 ? '' : 's'} of interrupted pulls`);
      }),
    ),
  );
  image.addCommand(imagesCommand().name('ls'));
  return image;
}
