import { describe, expect, it } from 'vitest';
import { DEFAULT_PATH, mergeImageConfig, MergeError } from '../../src/image/oci/config-merge.js';
import type { ImageConfig } from '../../src/image/oci/documents.js';

const img = (config: NonNullable<ImageConfig['config']>): ImageConfig => ({ rootfs: { type: 'layers', diff_ids: [] }, config });
const cli = { command: [] as string[], env: [] as string[] };

describe('Entrypoint and Cmd (docker rules)', () => {
  const both = img({ Entrypoint: ['/bin/echo'], Cmd: ['x'] });
  it('image defaults: Entrypoint + Cmd', () => expect(mergeImageConfig(both, cli).argv).toEqual(['/bin/echo', 'x']));
  it('a command replaces Cmd, keeps Entrypoint', () => expect(mergeImageConfig(both, { ...cli, command: ['a', 'b'] }).argv).toEqual(['/bin/echo', 'a', 'b']));
  it('--entrypoint replaces Entrypoint and clears Cmd', () => expect(mergeImageConfig(both, { ...cli, entrypoint: '/bin/ls' }).argv).toEqual(['/bin/ls']));
  it('--entrypoint with a command', () => expect(mergeImageConfig(both, { ...cli, entrypoint: '/bin/ls', command: ['-l'] }).argv).toEqual(['/bin/ls', '-l']));
  it("--entrypoint '' clears it", () => expect(mergeImageConfig(both, { ...cli, entrypoint: '', command: ['sh'] }).argv).toEqual(['sh']));
  it('Cmd only', () => expect(mergeImageConfig(img({ Cmd: ['/bin/sh', '-c', 'echo hi'] }), cli).argv).toEqual(['/bin/sh', '-c', 'echo hi']));
  it('null Entrypoint/Cmd are empty', () => expect(mergeImageConfig(img({ Entrypoint: null, Cmd: ['sh'] }), cli).argv).toEqual(['sh']));
  it('nothing to run is an error', () => expect(() => mergeImageConfig(img({}), cli)).toThrow(MergeError));
});

describe('Env, WorkingDir, User and the rest', () => {
  it('-e overrides the image by name, order kept, PATH added when missing', () => {
    expect(mergeImageConfig(img({ Env: ['FOO=bar', 'A=1'], Cmd: ['sh'] }), { ...cli, env: ['FOO=cli', 'B=2'] }).env).toEqual(['FOO=cli', 'A=1', 'B=2', DEFAULT_PATH]);
  });
  it("the image's PATH is kept", () => expect(mergeImageConfig(img({ Env: ['PATH=/x'], Cmd: ['sh'] }), cli).env).toEqual(['PATH=/x']));
  it('WorkingDir, else /; -w wins', () => {
    expect(mergeImageConfig(img({ WorkingDir: '/work', Cmd: ['sh'] }), cli).cwd).toBe('/work');
    expect(mergeImageConfig(img({ WorkingDir: '', Cmd: ['sh'] }), cli).cwd).toBe('/');
    expect(mergeImageConfig(img({ WorkingDir: '/work', Cmd: ['sh'] }), { ...cli, workdir: '/x' }).cwd).toBe('/x');
  });
  it('User, -u wins', () => {
    expect(mergeImageConfig(img({ User: '1000:1000', Cmd: ['sh'] }), cli).user).toBe('1000:1000');
    expect(mergeImageConfig(img({ User: '1000:1000', Cmd: ['sh'] }), { ...cli, user: '0' }).user).toBe('0');
  });
  it('StopSignal, ExposedPorts, Labels', () => {
    const d = mergeImageConfig(img({ StopSignal: 'SIGQUIT', ExposedPorts: { '8080/tcp': {}, '53/udp': {} }, Labels: { a: 'b' }, Cmd: ['sh'] }), cli);
    expect([d.stopSignal, d.exposedPorts, d.labels]).toEqual(['SIGQUIT', ['53/udp', '8080/tcp'], { a: 'b' }]);
  });
});
