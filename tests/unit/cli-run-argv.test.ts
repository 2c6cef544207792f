import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands/run.js';
import { RUN_OPTIONAL_VALUE_OPTIONS, RUN_VALUE_OPTIONS, scanRunArgs } from '../../src/cli/run-argv.js';

describe('the start-up reading of run\'s command line', () => {
  it('knows exactly the options of tsbox run that take a value (the table matches run.ts)', () => {
    const fromCommander = runCommand()
      .options.filter((o) => o.required || o.optional)
      .map((o) => [o.long!.replace(/^--/, ''), o.short?.replace(/^-/, '')].filter(Boolean).join(' '))
      .sort();
    const fromTable = [...RUN_VALUE_OPTIONS.map(([long, short]) => [long, short].filter(Boolean).join(' ')), ...RUN_OPTIONAL_VALUE_OPTIONS].sort();
    expect(fromTable).toEqual(fromCommander);
    const optional = runCommand().options.filter((o) => o.optional && !o.required).map((o) => o.long!.replace(/^--/, ''));
    expect([...RUN_OPTIONAL_VALUE_OPTIONS].sort()).toEqual(optional.sort());
  });

  it('reads detach, help, tty and the last --cgroup-parent, stopping at ROOTFS', () => {
    expect(scanRunArgs(['-dit', 'r.tar'])).toEqual({ detach: true, help: false, tty: true, cgroupParent: undefined });
    expect(scanRunArgs(['-ecgroup', '--cgroup-parent', 'a', '--cgroup-parent=b', 'r.tar', '-d'])).toEqual({ detach: false, help: false, tty: undefined, cgroupParent: 'b' });
    expect(scanRunArgs(['-tv', '/x:/y', '--no-tty', 'r.tar'])).toMatchObject({ tty: false });
    expect(scanRunArgs(['--', '-d'])).toMatchObject({ detach: false });
    // An optional value is taken only when the next argument is not an option, as commander does.
    expect(scanRunArgs(['--read-only-tmpfs', '-d', 'r.tar'])).toMatchObject({ detach: true });
    expect(scanRunArgs(['--read-only-tmpfs', 'false', '-d', 'r.tar'])).toMatchObject({ detach: true });
  });
});
