import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/commands/run.js';
import { scanRunArgs, type RunArgv } from '../../src/cli/run-argv.js';

/** What commander itself makes of run's command line (the action is replaced: nothing runs). */
async function commanderReads(argv: string[]): Promise<RunArgv> {
  let read: RunArgv | undefined;
  const cmd = runCommand()
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .action((rootfs: string, _command: string[], flags: Record<string, unknown>) => {
      read = { detach: flags.detach === true, help: false, tty: flags.tty as boolean | undefined, cgroupParent: flags.cgroupParent as string | undefined, network: flags.network as string | undefined, rootfs, traced: flags.debug === true || flags.explain !== undefined || flags['explain=json'] !== undefined };
    });
  try {
    await cmd.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'commander.helpDisplayed') return { detach: false, help: true, tty: undefined, cgroupParent: undefined, network: undefined, rootfs: undefined, traced: false };
    throw err;
  }
  return read!;
}

const TRICKY: string[][] = [
  ['-dit', 'r.tar'],
  ['-ecgroup', '--cgroup-parent', 'a', '--cgroup-parent=b', 'r.tar', '-d'],
  ['-tv', '/x:/y', '--no-tty', 'r.tar'],
  ['-de', 'X=1', 'r.tar'],
  ['-deX=1', '--cgroup-parent=c=d', 'r.tar'],
  // `--`: what follows is ROOTFS and the command, whatever it looks like.
  ['--', '-d'],
  ['-t', '--', 'r.tar', '-d'],
  ['--cgroup-parent', '--', 'r.tar'],
  // An optional value is the next argument unless it looks like an option.
  ['--read-only-tmpfs', '-d', 'r.tar'],
  ['--read-only-tmpfs', 'false', '-d', 'r.tar'],
  ['--read-only-tmpfs=false', '--read-only', 'r.tar'],
  // A value that looks like a flag is a value.
  ['-e', '--cgroup-parent', 'r.tar', 'sh'],
  ['--name', '-d', 'r.tar'],
  // --debug and --explain[=json] before ROOTFS make a trace; after it they are the command's.
  ['--debug', 'r.tar'],
  ['--explain', 'r.tar', '--debug'],
  ['--explain=json', 'r.tar'],
  ['r.tar', 'sh', '--explain'],
  ['--memory-swap', '-1', '-m', '1g', '-c', '-5', 'r.tar'],
  ['-m-1', 'r.tar'],
  // The container's own command after ROOTFS, with flags of its own.
  ['r.tar', 'ls', '-d', '--cgroup-parent', 'x', '-t'],
  ['--debug', '--log-level=debug', '--root', '/tmp/x', 'r.tar', '-t', '--', '-d'],
  ['-', 'cat', '-d'],
  ['-1', 'x'],
  ['-1', '-d'],
  ['-h'],
  ['--help'],
  ['-dh', 'r.tar'],
  ['--network', 'host', '--network=container:db', 'r.tar'],
  ['--network=host', '-p', '80', 'r.tar', '--network', 'none'],
];

describe('the start-up reading of run\'s command line', () => {
  it.each(TRICKY.map((argv) => [argv.join(' '), argv] as const))('reads %s as commander does', async (_name, argv) => {
    const expected = await commanderReads(argv);
    // With --help commander prints help and stops: the rest of the line does not matter.
    if (expected.help) expect(scanRunArgs(argv).help).toBe(true);
    else expect(scanRunArgs(argv)).toEqual(expected);
  });

  it('reads detach, help, tty and the last --cgroup-parent, stopping at ROOTFS', () => {
    expect(scanRunArgs(['-dit', 'r.tar'])).toEqual({ detach: true, help: false, tty: true, cgroupParent: undefined, network: undefined, rootfs: 'r.tar', traced: false });
    expect(scanRunArgs(['-ecgroup', '--cgroup-parent', 'a', '--cgroup-parent=b', 'r.tar', '-d'])).toMatchObject({ detach: false, cgroupParent: 'b' });
    expect(scanRunArgs(['r.tar', 'ls', '-d'])).toMatchObject({ detach: false, rootfs: 'r.tar' });
  });
});
