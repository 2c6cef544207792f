/**
 * tsbox rmi IMAGE...: untag, and remove the image when no tag is left (or it was named
 * by id); its layers go only when no other image and no container references them.
 */
import { Command } from 'commander';
import { TsboxError, UsageError } from '../../errors.js';
import { storeFor } from '../container-args.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { forEachContainer } from './each-container.js';

export function rmiCommand(): Command {
  return addCommonOptions(
    new Command('rmi')
      .description('remove images (layers stay while another image or a container uses them)')
      .argument('<image...>', 'name[:tag], id, or unique id prefix')
      .action(async (names: string[], flags: CommonOptions) => {
        // Loaded on use: tsbox run's start does not pay for the image store or the registry client.
        const { imageUsers } = await import('../../runtime/prune-plan.js');
        const { listRecords, putRecord, removeImage, resolveImage, withImagesLock } = await import('../../image/oci/image-store.js');
        const root = resolveRoot(flags.root);
        // A container of an image names its id (and holds references to its layers, which keep them): docker refuses to remove the image under it.
        const users = imageUsers(storeFor(flags.root).list());
        await forEachContainer(names, (name) =>
          withImagesLock(root, async () => {
            const found = resolveImage(await listRecords(root), name);
            if ('error' in found) throw new UsageError(found.error, { step: 'rmi', hint: "See 'tsbox images'." });
            const tag = found.repoTags.find((t) => t === name || t === `${name}:latest` || t.endsWith(`/${name}`) || t.endsWith(`/${name}:latest`));
            if (tag !== undefined && found.repoTags.length > 1) {
              await putRecord(root, { ...found, repoTags: found.repoTags.filter((t) => t !== tag) });
              writeLine(1, `Untagged: ${tag}`);
              return;
            }
            const using = users.get(found.id);
            if (using !== undefined) {
              throw new TsboxError(`cannot remove ${found.id}: used by ${using.length === 1 ? 'container' : 'containers'} ${using.join(', ')}`, { step: 'rmi', hint: 'Remove those containers first (tsbox rm).' });
            }
            if (tag !== undefined) writeLine(1, `Untagged: ${tag}`);
            const layers = await removeImage(root, found.id);
            writeLine(1, `Deleted: ${found.id}`);
            for (const l of layers) writeLine(1, `Deleted layer: ${l}`);
          }),
        );
      }),
  );
}
