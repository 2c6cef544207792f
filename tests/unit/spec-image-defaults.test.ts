import { describe, expect, it } from 'vitest';
import { EMPTY_IMAGE_DEFAULTS, mergeImageDefaults, type ImageDefaults, type ProcessRequest } from '../../src/spec/image-defaults.js';

const req = (r: Partial<ProcessRequest>): ProcessRequest => ({ command: [], baseEnv: ['PATH=/bin', 'TERM=xterm'], envFromFiles: [], envFromFlags: [], ...r });
const image: ImageDefaults = { ...EMPTY_IMAGE_DEFAULTS, entrypoint: ['/entry'], cmd: ['serve'], env: ['PATH=/opt/bin', 'LANG=C'], workingDir: '/app', user: 'www', from: 'image' };

describe('image defaults merge point', () => {
  it('merges nothing without an image config: a rootfs', () => {
    expect(mergeImageDefaults(req({ command: ['echo', 'hi'], workdir: '/src', user: '1000' }), EMPTY_IMAGE_DEFAULTS)).toEqual({ args: ['echo', 'hi'], env: ['PATH=/bin', 'TERM=xterm'], cwd: '/src', user: '1000' });
    expect(mergeImageDefaults(req({}), EMPTY_IMAGE_DEFAULTS)).toEqual({ args: ['/bin/sh'], env: ['PATH=/bin', 'TERM=xterm'], cwd: '/', user: null });
  });

  it("takes the image's Entrypoint, Cmd, Env, WorkingDir and User where the user gave none", () => {
    expect(mergeImageDefaults(req({}), image)).toEqual({ args: ['/entry', 'serve'], env: ['PATH=/opt/bin', 'TERM=xterm', 'LANG=C'], cwd: '/app', user: 'www' });
  });

  it("a COMMAND replaces the image's Cmd, not its Entrypoint; --entrypoint drops the image's Cmd", () => {
    expect(mergeImageDefaults(req({ command: ['x'] }), image).args).toEqual(['/entry', 'x']);
    expect(mergeImageDefaults(req({ entrypoint: ['/bin/ls'] }), image).args).toEqual(['/bin/ls']);
  });

  it('the user wins: -e over --env-file over the image over the defaults; -w and -u over the image', () => {
    const merged = mergeImageDefaults(req({ envFromFiles: ['LANG=fr'], envFromFlags: ['PATH=/mine'], workdir: '/w', user: '0' }), image);
    expect(merged.env).toEqual(['PATH=/mine', 'TERM=xterm', 'LANG=fr']);
    expect(merged).toMatchObject({ cwd: '/w', user: '0' });
  });
});
