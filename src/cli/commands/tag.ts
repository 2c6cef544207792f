/** tsbox tag SOURCE TARGET: another name for an image (moved from any image that had it). */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { addCommonOptions, type CommonOptions } from '../options.js';

/** A docker-style reference: lowercase path components, an optional :tag. Short names get localhost/ and :latest. */
export function normalizeTag(text: string): string | null {
  const m = /^((?:[a-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?$/.exec(text);
  if (m === null) return null;
  const repo = m[1]!.includes('/') ? m[1]! : `localhost/${m[1]!}`;
  return `${repo}:${m[2] ?? 'latest'}`;
}

export function tagCommand(): Command {
  return addCommonOptions(
    new Command('tag')
      .description('give an image another name')
      .argument('<source>', 'image name or id')
      .argument('<target>', 'new name[:tag]')
      .action(async (source: string, target: string, flags: CommonOptions) => {
        // Loaded on use: tsbox run's start does not pay for the image store or the registry client.
        const { listRecords, putRecord, resolveImage, withImagesLock } = await import('../../image/oci/image-store.js');
        const root = resolveRoot(flags.root);
        const name = normalizeTag(target);
        if (name === null) throw new UsageError(`invalid image name ${JSON.stringify(target)}`, { step: 'tag', hint: 'Names are lowercase path components with an optional :tag.' });
        await withImagesLock(root, async () => {
          const found = resolveImage(await listRecords(root), source);
          if ('error' in found) throw new UsageError(found.error, { step: 'tag', hint: "See 'tsbox images'." });
          await putRecord(root, { ...found, repoTags: [...new Set([...found.repoTags, name])] });
        });
      }),
  );
}
