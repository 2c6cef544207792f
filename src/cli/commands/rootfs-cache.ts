/** tsbox rootfs ls | rm DIGEST... | prune: the extraction cache, and which containers use it. */
import { Command, Option } from 'commander';
import { TsboxError, UsageError } from '../../errors.js';
import { formatBytes } from '../../cgroups/size.js';
import { listCacheEntries } from '../../image/index.js';
import { humanDuration } from '../../runtime/state/record.js';
import { imageUsers, resolveDigest } from '../../runtime/prune-plan.js';
import { pruneCache, removeUnusedEntry } from '../../runtime/prune.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { forEachContainer } from './each-container.js';

export function addCacheCommands(rootfs: Command): void {
  rootfs.addCommand(
    addCommonOptions(
      new Command('ls')
        .alias('list')
        .description('list the extracted root filesystems in the cache: size, last use, source, containers using them')
        .addOption(new Option('--format <format>', 'table, or json (one object per line)').choices(['table', 'json']).default('table'))
        .action(async (flags: CommonOptions & { format: 'table' | 'json' }) => {
          const root = resolveRoot(flags.root);
          const users = imageUsers(storeFor(flags.root).list());
          const entries = await listCacheEntries(root);
          if (flags.format === 'json') {
            for (const e of entries) writeLine(1, JSON.stringify({ ...e, containers: users.get(e.digest) ?? [] }));
            return;
          }
          const now = Date.now();
          const rows = [['DIGEST', 'SIZE', 'LAST USED', 'SOURCE', 'CONTAINERS']];
          for (const e of entries) {
            rows.push([
              e.digest.slice(0, 19),
              e.size === null ? 'broken' : formatBytes(e.size),
              e.lastUsed === null ? '' : `${humanDuration(now - e.lastUsed.getTime())} ago`,
              e.sourcePath ?? '',
              (users.get(e.digest) ?? []).join(','),
            ]);
          }
          const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
          writeLine(1, rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n'));
        }),
    ),
  );
  rootfs.addCommand(
    addCommonOptions(
      new Command('rm')
        .description('remove cache entries (refused while a container, running or stopped, uses one)')
        .argument('<digest...>', 'sha256:<hex>, or a unique prefix of the hex')
        .action(async (digests: string[], flags: CommonOptions) => {
          const root = resolveRoot(flags.root);
          const store = storeFor(flags.root);
          const entries = await listCacheEntries(root);
          await forEachContainer(digests, async (text) => {
            const found = resolveDigest(text, entries.map((e) => e.digest));
            if ('error' in found) throw new UsageError(found.error, { hint: "See 'tsbox rootfs ls'." });
            const entry = entries.find((e) => e.digest === found.digest)!;
            const reason = await removeUnusedEntry(store, root, entry);
            if (reason) throw new TsboxError(`cannot remove ${found.digest}: ${reason}`, { hint: 'Remove those containers first (tsbox rm).' });
            writeLine(1, found.digest);
          });
        }),
    ),
  );
  rootfs.addCommand(
    addCommonOptions(
      new Command('prune').description('remove every cache entry no container uses').action(async (flags: CommonOptions) => {
        const removed = await pruneCache(storeFor(flags.root), resolveRoot(flags.root));
        for (const e of removed) writeLine(1, `removed ${e.digest}`);
        writeLine(1, `reclaimed ${formatBytes(removed.reduce((n, e) => n + (e.size ?? 0), 0))} in ${removed.length} cache entr${removed.length === 1 ? 'y' : 'ies'}`);
      }),
    ),
  );
}
