/** commander options from the flag table (cli/run-flags.ts), and the options every tsbox command accepts. */
import { Option, type Command } from 'commander';
import { parseReadOnlyTmpfsFlag } from '../spec/read-only-tmpfs.js';
import { COMMON_FLAGS, type FlagRow } from './run-flags.js';

export interface CommonOptions {
  root?: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFormat: 'json' | 'pretty';
  debug: boolean;
  /** false with --no-openat2 (testing only). */
  openat2: boolean;
}

/** The readers of the table's `parse` kinds. */
const PARSERS = { boolean: parseReadOnlyTmpfsFlag } as const;

/** One commander option per row. */
export function addFlags(cmd: Command, rows: readonly FlagRow[]): Command {
  for (const row of rows) {
    const names = `${row.short ? `-${row.short}, ` : ''}--${row.long}${row.arg ? ` ${row.arg}` : ''}`;
    const option = new Option(names, row.help);
    if (row.choices) option.choices(row.choices);
    if (row.value === 'repeatable') option.argParser(collect);
    if (row.parse) option.argParser(PARSERS[row.parse]);
    if (row.default !== undefined) option.default(row.default);
    if (row.preset !== undefined) option.preset(row.preset);
    if (row.hidden) option.hideHelp();
    cmd.addOption(option);
  }
  return cmd;
}

export function addCommonOptions(cmd: Command): Command {
  return addFlags(cmd, COMMON_FLAGS);
}

/** Repeatable options (-e A -e B) collect into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
