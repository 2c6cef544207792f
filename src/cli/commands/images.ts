/** tsbox images: repository, tag, id, size, created. */
import { Command, Option } from 'commander';
import { formatBytes } from '../../cgroups/size.js';
import { humanDuration } from '../../runtime/state/record.js';
import { resolveRoot } from '../../spec/run-spec.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function splitRepoTag(name: string): [string, string] {
  const m = /^(.*):([^/:]+)$/.exec(name);
  return m === null ? [name, '<none>'] : [m[1]!, m[2]!];
}

export function imagesCommand(): Command {
  return addCommonOptions(
    new Command('images')
      .description('list images')
      .option('-q, --quiet', 'only ids', false)
      .addOption(new Option('--format <format>', 'table, or json (one object per line)').choices(['table', 'json']).default('table'))
      .action(async (flags: CommonOptions & { quiet: boolean; format: 'table' | 'json' }) => {
        // Loaded on use: tsbox run's start does not pay for the image store or the registry client.
        const { listRecords } = await import('../../image/oci/image-store.js');
        const records = await listRecords(resolveRoot(flags.root));
        if (flags.quiet) {
          for (const r of records) writeLine(1, r.id.slice(7, 19));
          return;
        }
        if (flags.format === 'json') {
          for (const r of records) writeLine(1, JSON.stringify(r));
          return;
        }
        const rows = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
        const now = Date.now();
        for (const r of records) {
          const created = r.created === null || Number.isNaN(Date.parse(r.created)) ? '' : `${humanDuration(now - Date.parse(r.created))} ago`;
          for (const name of r.repoTags.length > 0 ? r.repoTags : ['<none>:<none>']) {
            const [repo, tag] = splitRepoTag(name);
            rows.push([repo, tag, r.id.slice(7, 19), created, formatBytes(r.size)]);
          }
        }
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
        writeLine(1, rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n'));
      }),
  );
}
