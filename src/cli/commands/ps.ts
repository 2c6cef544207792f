/**
 * tsbox ps [-a] [-q] [--no-trunc] [--filter KEY=VALUE...] [--format table|json|TEMPLATE]
 *
 * `--format json` prints each full record (tsbox's own, used by scripts before templates
 * existed); `--format '{{json .}}'` prints docker's fields. Any other format is a docker
 * Go template (runtime/ps/template.ts).
 */
import { Command } from 'commander';
import { readConfigFile } from '../../container/config-file.js';
import { filtersImplyAll, matchesFilters, parseFilters } from '../../runtime/ps/filter.js';
import { compileTemplate, renderTemplate } from '../../runtime/ps/template.js';
import { PS_FIELD_HEADERS, psRow } from '../../runtime/ps/view.js';
import { describeStatus, formatPsTable } from '../../runtime/state/record.js';
import type { StateStore } from '../../runtime/state/store.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, collect, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

interface PsFlags extends CommonOptions {
  all: boolean;
  quiet: boolean;
  trunc: boolean;
  filter?: string[];
  format?: string;
}

export function psCommand(): Command {
  const cmd = new Command('ps')
    .description('list containers (running ones; -a for all)')
    .option('-a, --all', 'include containers that exited', false)
    .option('-q, --quiet', 'only the ids', false)
    .option('--no-trunc', 'full ids and commands')
    .option('-f, --filter <key=value>', 'id=, name=, status=, label=KEY[=VALUE]; repeat to combine', collect)
    .option('--format <format>', "table, json (one record per line), or a Go template: '{{.ID}} {{.Names}}', 'table {{.ID}}\\t{{.Status}}', '{{json .}}'")
    .action((flags: PsFlags) => {
      const now = new Date();
      const filters = parseFilters(flags.filter ?? []);
      const format = flags.quiet ? '{{.ID}}' : flags.format ?? 'table';
      const template = format === 'table' || format === 'json' ? null : compileTemplate(format, PS_FIELD_HEADERS);
      const store = storeFor(flags.root);
      const all = flags.all || filtersImplyAll(filters);
      const records = store.list().filter((r) => (all || r.status !== 'exited') && matchesFilters(r, filters));
      if (format === 'json') {
        for (const r of records) writeLine(1, JSON.stringify({ ...r, state: describeStatus(r, now) }));
      } else if (template === null) {
        writeLine(1, formatPsTable(records, now));
      } else {
        const rows = records.map((r) => psRow(r, now, { trunc: flags.trunc, mounts: volumeTargets(store, r.shortId) }));
        const lines = renderTemplate(template, rows, PS_FIELD_HEADERS);
        if (lines.length > 0) writeLine(1, lines.join('\n'));
      }
    });
  return addCommonOptions(cmd);
}


/** The volumes' container paths, for {{.Mounts}}: from the spec the container was run with (none if unreadable). */
function volumeTargets(store: StateStore, shortId: string): string[] {
  try {
    return readConfigFile(store.paths(shortId).spec).volumes.map((v) => v.target);
  } catch {
    return [];
  }
}
