import { describe, expect, it } from 'vitest';
import { hoistCommonFlags } from '../../src/cli/global-flags.js';

const subs = (name: string): string[] => (name === 'network' ? ['ls', 'create'] : name === 'rootfs' ? ['from-host'] : []);

describe('common flags before the command (podman --root DIR ps)', () => {
  it.each([
    [['--root', '/x', 'ps', '-a'], ['ps', '--root', '/x', '-a']],
    [['--root=/x', '--debug', 'run', 'r.tar', 'sh'], ['run', '--root=/x', '--debug', 'r.tar', 'sh']],
    [['--log-level', 'debug', 'network', 'ls', '-q'], ['network', 'ls', '--log-level', 'debug', '-q']],
    [['--root', '/x', 'network', 'create', 'n1'], ['network', 'create', '--root', '/x', 'n1']],
    // Nothing to move, or nothing that can be moved: commander decides, as before.
    [['ps', '--root', '/x'], ['ps', '--root', '/x']],
    [['--help'], ['--help']],
    [['--root', '/x'], ['--root', '/x']],
    [['--root'], ['--root']],
    [['--root', '/x', '--version'], ['--root', '/x', '--version']],
    [['--unknown', 'ps'], ['--unknown', 'ps']],
    // A command's own argument that looks like a subcommand name is not taken as one.
    [['--root', '/x', 'run', 'ls'], ['run', '--root', '/x', 'ls']],
  ])('%j -> %j', (args, expected) => {
    expect(hoistCommonFlags(args, subs)).toEqual(expected);
  });
});
