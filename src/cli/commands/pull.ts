/**
 * tsbox pull REF: fetch an image's manifest, config and layers from a registry, every digest
 * verified, into the blob cache under the state root, then into the image store (layers
 * extracted once by diff_id: image/oci/pull-image.ts); prints the manifest digest.
 * SIGINT/SIGTERM stop the transfers at once and leave the partial files for the next pull.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { asTsboxError } from '../../errors.js';
import { resolveRoot, zodToUsageError } from '../../spec/run-spec.js';
import { addCommonOptions, addFlags, type CommonOptions } from '../options.js';
import { EXPLAIN_FLAGS } from '../run-flags.js';
import { writeLine } from '../render-error.js';
import { registryFlags, tlsSettings, type RegistryFlags } from './registry-flags.js';

const pullSchema = z.object({ quiet: z.boolean() });

export function pullCommand(): Command {
  const cmd = new Command('pull')
    .description('pull an image from a registry (OCI distribution API / Docker Registry v2)')
    .argument('<reference>', '[HOST[:PORT]/]NAME[:TAG][@DIGEST]; a short name means docker.io/library/NAME:latest')
    .option('-q, --quiet', 'no progress display', false)
    .action(async (reference: string, flags: CommonOptions & RegistryFlags & { quiet: boolean; explain?: 'text' | 'json'; 'explain=json'?: 'json' }) => {
      // Loaded on use: tsbox run's start does not pay for the image store or the registry client.
      const { PullInterrupted } = await import('../../registry/errors.js');
      const { TerminalProgress } = await import('../../registry/progress.js');
      const { pullImage } = await import('../../image/oci/pull-image.js');
      const { DEFAULT_MAX_ROOTFS_SIZE } = await import('../../image/prepare.js');
      const { createLogger } = await import('../../log.js');
      const parsed = pullSchema.safeParse({ quiet: flags.quiet });
      if (!parsed.success) throw zodToUsageError(parsed.error);
      const controller = new AbortController();
      let stoppedBy: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        stoppedBy ??= sig;
        controller.abort(new PullInterrupted(sig));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const explain = flags['explain=json'] ?? flags.explain;
        // --explain writes on stderr too: no progress lines redrawn over its text.
        const progress = new TerminalProgress(2, !parsed.data.quiet && explain === undefined && process.stderr.isTTY === true);
        const log = createLogger(flags.debug ? 'debug' : flags.logLevel, flags.logFormat, {}, explain);
        const result = await pullImage(reference, { root: resolveRoot(flags.root), maxBytes: DEFAULT_MAX_ROOTFS_SIZE, log, ...tlsSettings(flags), signal: controller.signal, progress });
        writeLine(1, result.manifestDigest);
      } catch (err) {
        if (stoppedBy) throw new PullInterrupted(stoppedBy);
        throw asTsboxError(err).inStep('pull');
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  return addCommonOptions(addFlags(registryFlags(cmd), EXPLAIN_FLAGS));
}


