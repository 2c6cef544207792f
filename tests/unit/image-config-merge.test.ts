/** An image config → the defaults a run merges: docker's rules and the checks on the image's values. */
import { describe, expect, it } from 'vitest';
import { imageDefaultsFromConfig, ImageConfigError } from '../../src/image/oci/config-merge.js';
import type { ImageConfig } from '../../src/image/oci/documents.js';
import { mergeImageDefaults, publishedPorts, mergeImageLabels, EMPTY_IMAGE_DEFAULTS } from '../../src/spec/image-defaults.js';
import { parsePublish } from '../../src/network/ports.js';

const img = (config: NonNullable<ImageConfig['config']>): ImageConfig => ({ rootfs: { type: 'layers', diff_ids: [] }, config });
const of = (config: NonNullable<ImageConfig['config']>) => imageDefaultsFromConfig(img(config)).defaults;
const req = { command: [] as string[], baseEnv: ['PATH=/usr/bin:/bin', 'HOSTNAME=h', 'TERM=xterm'], envFromFiles: [] as string[], envFromFlags: [] as string[] };

describe('Entrypoint and Cmd (docker rules)', () => {
  const both = of({ Entrypoint: ['/bin/echo'], Cmd: ['x'] });
  it('image defaults: Entrypoint + Cmd', () => expect(mergeImageDefaults(req, both).args).toEqual(['/bin/echo', 'x']));
  it('a command replaces Cmd, keeps Entrypoint', () => expect(mergeImageDefaults({ ...req, command: ['a', 'b'] }, both).args).toEqual(['/bin/echo', 'a', 'b']));
  it('--entrypoint replaces Entrypoint and clears Cmd', () => expect(mergeImageDefaults({ ...req, entrypoint: ['/bin/ls'] }, both).args).toEqual(['/bin/ls']));
  it('--entrypoint with a command', () => expect(mergeImageDefaults({ ...req, entrypoint: ['/bin/ls'], command: ['-l'] }, both).args).toEqual(['/bin/ls', '-l']));
  it("--entrypoint '' clears it", () => expect(mergeImageDefaults({ ...req, entrypoint: [], command: ['sh'] }, both).args).toEqual(['sh']));
  it('Cmd only', () => expect(mergeImageDefaults(req, of({ Cmd: ['/bin/sh', '-c', 'echo hi'] })).args).toEqual(['/bin/sh', '-c', 'echo hi']));
  it('null Entrypoint/Cmd are empty', () => expect(mergeImageDefaults(req, of({ Entrypoint: null, Cmd: ['sh'] })).args).toEqual(['sh']));
  it('an image with nothing to run is an error (docker); a rootfs runs /bin/sh', () => {
    expect(() => mergeImageDefaults(req, of({}))).toThrow(/no command: the image has neither Entrypoint nor Cmd/);
    expect(() => mergeImageDefaults({ ...req, entrypoint: [] }, of({ Cmd: ['x'] }))).toThrow(/no command/);
    expect(mergeImageDefaults(req, EMPTY_IMAGE_DEFAULTS).args).toEqual(['/bin/sh']);
  });
});

describe('Env, WorkingDir, User', () => {
  it("tsbox's defaults < the image's Env < -e, by name, order of first appearance", () => {
    const d = of({ Env: ['FOO=bar', 'PATH=/opt/bin', 'A'], Cmd: ['sh'] });
    expect(mergeImageDefaults({ ...req, envFromFlags: ['FOO=cli', 'B=2'] }, d).env).toEqual(['PATH=/opt/bin', 'HOSTNAME=h', 'TERM=xterm', 'FOO=cli', 'A=', 'B=2']);
  });
  it('WorkingDir, else /; -w wins', () => {
    expect(mergeImageDefaults(req, of({ WorkingDir: '/work', Cmd: ['sh'] })).cwd).toBe('/work');
    expect(mergeImageDefaults(req, of({ WorkingDir: '', Cmd: ['sh'] })).cwd).toBe('/');
    expect(mergeImageDefaults({ ...req, workdir: '/x' }, of({ WorkingDir: '/work', Cmd: ['sh'] })).cwd).toBe('/x');
  });
  it('User, -u wins; none is root (null)', () => {
    expect(mergeImageDefaults(req, of({ User: '1000:1000', Cmd: ['sh'] })).user).toBe('1000:1000');
    expect(mergeImageDefaults({ ...req, user: '0' }, of({ User: 'www', Cmd: ['sh'] })).user).toBe('0');
    expect(mergeImageDefaults(req, of({ User: '', Cmd: ['sh'] })).user).toBeNull();
  });
});

describe('StopSignal, ExposedPorts, Labels, Healthcheck', () => {
  it('StopSignal normalized to a name', () => {
    expect(of({ StopSignal: 'SIGQUIT' }).stopSignal).toBe('SIGQUIT');
    expect(of({ StopSignal: 'quit' }).stopSignal).toBe('SIGQUIT');
    expect(of({ StopSignal: '9' }).stopSignal).toBe('SIGKILL');
    expect(of({}).stopSignal).toBeNull();
  });
  it('ExposedPorts: sorted PORT/proto, sctp left out with a note; -P publishes those no -p names', () => {
    const conv = imageDefaultsFromConfig(img({ ExposedPorts: { '8080/tcp': {}, '53/udp': {}, '9': {}, '7/sctp': {} }, Cmd: ['sh'] }));
    expect(conv.defaults.exposedPorts).toEqual(['53/udp', '8080/tcp', '9/tcp']);
    expect(conv.notes.join('\n')).toMatch(/7\/sctp/);
    expect(publishedPorts(['127.0.0.1:1234:8080'], true, conv.defaults, parsePublish)).toEqual(['127.0.0.1:1234:8080', '53/udp', '9/tcp']);
    expect(publishedPorts(['1:2'], false, conv.defaults, parsePublish)).toEqual(['1:2']);
  });
  it('labels: the user overrides the image', () => {
    expect(mergeImageLabels({ a: 'user' }, of({ Labels: { a: 'img', b: 'img' } }))).toEqual({ a: 'user', b: 'img' });
  });
  it('Healthcheck and Volumes are noted, not applied', () => {
    const conv = imageDefaultsFromConfig(img({ Cmd: ['sh'], Volumes: { '/data': {} }, Healthcheck: { Test: ['CMD', 'true'] } } as never));
    expect(conv.notes.join('\n')).toMatch(/Healthcheck is not run/);
    expect(conv.notes.join('\n')).toMatch(/\/data/);
  });
});

describe("the image's values are checked", () => {
  const bad: Array<[string, NonNullable<ImageConfig['config']>, RegExp]> = [
    ['uid above int32', { User: '4294967296' }, /User "4294967296" has an id above 2147483647/],
    ['gid above int32', { User: '0:99999999999' }, /id above/],
    ['negative id', { User: '-1' }, /negative id/],
    ['three parts', { User: 'a:b:c' }, /USER\[:GROUP\]/],
    ['NUL in Cmd', { Cmd: ['a\0b'] }, /NUL/],
    ['Env without a name', { Env: ['=x'] }, /no variable name/],
    ['relative WorkingDir', { WorkingDir: 'work' }, /not an absolute path/],
    ['unknown StopSignal', { StopSignal: 'SIGFOO' }, /not a signal/],
    ['bad port', { ExposedPorts: { '70000/tcp': {} } }, /not PORT/],
    ['bad proto', { ExposedPorts: { '80/icmp': {} } }, /not PORT/],
  ];
  for (const [name, config, message] of bad) {
    it(name, () => {
      expect(() => imageDefaultsFromConfig(img(config))).toThrow(ImageConfigError);
      expect(() => imageDefaultsFromConfig(img(config))).toThrow(message);
    });
  }
});
