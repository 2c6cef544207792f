import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands/run.js';
import { ALL_RUN_FLAGS, attributeOf, flagsToRunOptions, type FlagRow } from '../../src/cli/run-flags.js';
import { FLAG_NAMES, runOptionsSchema } from '../../src/spec/schema.js';

/** commander's parsed flags for `run ARGV -- r.tar` (the action is replaced: nothing runs). */
async function parsedFlags(argv: string[]): Promise<Record<string, unknown>> {
  let flags: Record<string, unknown> = {};
  const cmd = runCommand().exitOverride().action((_rootfs: string, _command: string[], f: Record<string, unknown>) => {
    flags = f;
  });
  await cmd.parseAsync([...argv, '--', 'r.tar'], { from: 'user' });
  return flags;
}

/** Each spelling of a row given on a command line, and the option value it must become. */
function samples(row: FlagRow): { argv: string[]; want: unknown }[] {
  const spellings = [`--${row.long}`, ...(row.short ? [`-${row.short}`] : [])];
  const value = row.choices ? row.choices[0]! : 'V1';
  return spellings.flatMap((flag) => {
    switch (row.value) {
      case 'none': return [{ argv: [flag], want: row.preset ?? !row.long.startsWith('no-') }];
      case 'required': return [{ argv: [flag, value], want: value }, ...(flag.startsWith('--') ? [{ argv: [`${flag}=${value}`], want: value }] : [])];
      case 'repeatable': return [{ argv: [flag, 'V1', flag, 'V2'], want: ['V1', 'V2'] }];
      case 'optional': return [{ argv: [flag], want: true }, { argv: [`${flag}=false`], want: false }];
    }
  });
}

/** Options of the API that no flag sets: the operands, and stdio the CLI never redirects. */
const API_ONLY = ['rootfs', 'command', 'stdin', 'stdout', 'stderr'];

describe('run\'s flag table', () => {
  it.each(ALL_RUN_FLAGS.map((row) => [row.long, row] as const))('--%s: commander parses it into its option', async (_long, row) => {
    for (const { argv, want } of samples(row)) {
      const flags = await parsedFlags(argv);
      if (row.key === null) {
        expect(flags[attributeOf(row)], argv.join(' ')).toBe(want);
        continue;
      }
      const options = flagsToRunOptions(flags);
      expect(options[row.key], argv.join(' ')).toEqual(want);
      // ... and the schema accepts what the flag gives.
      expect(runOptionsSchema.parse({ ...options, rootfs: 'r.tar' })[row.key], argv.join(' ')).toEqual(want);
    }
  });

  it('sets every option of the schema but the API-only ones, and only those', () => {
    const keys = new Set(ALL_RUN_FLAGS.flatMap((row) => (row.key === null ? [] : [row.key])));
    expect([...keys, ...API_ONLY].sort()).toEqual(Object.keys(runOptionsSchema.shape).sort());
  });

  it('gives no flags the schema\'s defaults (commander\'s defaults agree with the schema)', async () => {
    const options = flagsToRunOptions(await parsedFlags([]));
    expect(runOptionsSchema.parse({ ...options, rootfs: 'r.tar' })).toEqual(runOptionsSchema.parse({ rootfs: 'r.tar' }));
  });

  it('names every option in error messages by its flag', () => {
    for (const key of Object.keys(runOptionsSchema.shape)) if (!['stdin', 'stdout', 'stderr'].includes(key)) expect(FLAG_NAMES[key], key).toBeDefined();
    expect(FLAG_NAMES.readOnly).toBe('--read-only');
    expect(FLAG_NAMES.env).toBe('-e/--env');
    expect(FLAG_NAMES.tty).toBe('-t/--tty');
  });

  it('has one row per long and short name', () => {
    const longs = ALL_RUN_FLAGS.map((r) => r.long);
    const shorts = ALL_RUN_FLAGS.flatMap((r) => (r.short ? [r.short] : []));
    expect(new Set(longs).size).toBe(longs.length);
    expect(new Set(shorts).size).toBe(shorts.length);
  });
});
