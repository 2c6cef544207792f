// quick-args.ts reads the engines' small calls without commander; every call it accepts must
// give exactly the options commander gives (program.ts), and everything else is declined.
import { describe, expect, it } from 'vitest';
import { buildProgram, type GlobalOptions } from '../../src/oci/runtime/program.js';
import { parseQuickArgs } from '../../src/oci/runtime/quick-args.js';

/** What commander makes of `args`: the global options, the command, its options and arguments. */
async function commanderReads(args: string[]) {
  const program = buildProgram({ exitCode: 0 });
  let seen: { global: GlobalOptions; command: string; opts: Record<string, unknown>; args: string[] } | null = null;
  program.hook('preAction', (_root, action) => {
    // --criu and --rootless are read and ignored by both
    const { criu: _c, rootless: _r, ...global } = program.opts<GlobalOptions & { criu?: string; rootless?: string }>();
    seen = { global, command: action.name(), opts: action.opts(), args: action.args };
    throw new Error('stop before the action');
  });
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  await program.parseAsync(['node', 'tsbox-runtime', ...args]).catch(() => {});
  return seen as typeof seen;
}

const ID = 'c0ffee';
const accepted = [
  ['start', ID],
  ['state', ID],
  ['kill', ID],
  ['kill', ID, '15'],
  ['kill', ID, 'KILL'],
  ['kill', '--all', ID, '9'],
  ['kill', ID, '9', '-a'],
  ['delete', ID],
  ['delete', '--force', ID],
  ['delete', '-f', ID],
  ['pause', ID],
  ['resume', ID],
  // conmon's and containerd's global flags
  ['--root', '/run/x', '--log', '/b/log.json', '--log-format', 'json', 'delete', '--force', ID],
  ['--root=/run/x', '--log=/b/log.json', '--log-format=json', 'kill', ID, '15'],
  ['--log-format=text', '--debug', 'start', ID],
  ['--cgroup-manager', 'disabled', 'start', ID],
  ['--systemd-cgroup', 'state', ID],
  ['--criu', '/usr/sbin/criu', 'state', ID],
  ['--rootless', 'false', 'state', ID],
];

const declined = [
  [],
  ['create', '--bundle', '/b', ID],
  ['exec', '--process', '/p', ID],
  ['features'],
  ['list'],
  ['--version'],
  ['-v'],
  ['--help'],
  ['state', '--help'],
  ['state'],
  ['state', ID, 'extra'],
  ['start', ID, ID],
  ['kill', ID, '9', 'extra'],
  ['kill', ID, '-9'],
  ['kill', '-af', ID],
  ['kill', '--all', '--all', ID],
  ['delete', '--force=true', ID],
  ['delete', '--now', ID],
  ['--root', 'delete', ID],
  ['--root', '--debug', 'state', ID],
  ['--root', '/a', '--root', '/b', 'state', ID],
  ['--root=', 'state', ID],
  ['--log-format', 'yaml', 'state', ID],
  ['--debug=yes', 'state', ID],
  ['--unknown', 'state', ID],
  ['state', '--root', '/x', ID],
  ['state', '--', ID],
  ['--', 'state', ID],
  ['STATE', ID],
];

describe('the quick calls (quick-args.ts)', () => {
  it.each(accepted)('reads %j as commander does', async (...args) => {
    const quick = parseQuickArgs(args);
    const cmd = await commanderReads(args);
    expect(quick).not.toBeNull();
    expect(cmd).not.toBeNull();
    expect(quick!.global).toEqual(cmd!.global);
    expect(quick!.command).toBe(cmd!.command);
    expect([quick!.id, ...(quick!.signal !== undefined ? [quick!.signal] : [])]).toEqual(cmd!.args);
    expect(quick!.all).toBe(cmd!.opts.all ?? false);
    expect(quick!.force).toBe(cmd!.opts.force ?? false);
  });

  it.each(declined)('leaves %j to commander', (...args) => {
    expect(parseQuickArgs(args)).toBeNull();
  });
});
