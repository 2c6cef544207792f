import { describe, expect, it } from 'vitest';
import { CommandError } from '../../src/errors.js';
import { execErrorExitCode, resolveCommand, type CommandFs } from '../../src/init/command.js';

function fakeFs(files: Record<string, { dir?: boolean; exec?: boolean }>): CommandFs {
  return {
    kind: (p) => (files[p] ? (files[p]!.dir ? 'dir' : 'file') : 'missing'),
    executable: (p) => files[p]?.exec === true,
  };
}
const env = ['PATH=/usr/bin:/bin'];

function exitOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CommandError);
    return (err as CommandError).exitCode;
  }
  throw new Error('expected a CommandError');
}

describe('finding the command', () => {
  it('searches PATH in order and returns the first executable', () => {
    const fs = fakeFs({ '/usr/bin/ls': { exec: true }, '/bin/ls': { exec: true } });
    expect(resolveCommand('ls', env, fs)).toBe('/usr/bin/ls');
  });

  it('skips non-executable matches when a later one is executable (as execvp)', () => {
    const fs = fakeFs({ '/usr/bin/tool': { exec: false }, '/bin/tool': { exec: true } });
    expect(resolveCommand('tool', env, fs)).toBe('/bin/tool');
  });

  it('exits 127 when nothing is found, 126 when only non-executables are', () => {
    expect(exitOf(() => resolveCommand('nope', env, fakeFs({})))).toBe(127);
    expect(exitOf(() => resolveCommand('tool', env, fakeFs({ '/bin/tool': { exec: false } })))).toBe(126);
  });

  it('takes paths with a slash as they are', () => {
    expect(resolveCommand('/opt/x', env, fakeFs({ '/opt/x': { exec: true } }))).toBe('/opt/x');
    expect(exitOf(() => resolveCommand('/opt/x', env, fakeFs({})))).toBe(127);
    expect(exitOf(() => resolveCommand('/opt', env, fakeFs({ '/opt': { dir: true } })))).toBe(126);
    expect(exitOf(() => resolveCommand('/etc/passwd', env, fakeFs({ '/etc/passwd': {} })))).toBe(126);
  });

  it('uses the default PATH when the environment has none', () => {
    expect(resolveCommand('sh', [], fakeFs({ '/bin/sh': { exec: true } }))).toBe('/bin/sh');
  });

  it('maps execve errors to docker\'s statuses', () => {
    expect(execErrorExitCode('ENOENT')).toBe(127);
    expect(execErrorExitCode('EACCES')).toBe(126);
    expect(execErrorExitCode('ENOEXEC')).toBe(126);
  });
});
