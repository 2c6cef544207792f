/** The API's options (src/api/options.ts): zod checks, and one line per bad option. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { apiDetachedSchema, apiExecSchema, apiKillSchema, apiRunSchema, parseOptions } from '../../src/api/options.js';
import { UsageError } from '../../src/errors.js';

const fail = (fn: () => unknown): UsageError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).not.toMatch(/\n/);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
};

describe('run options', () => {
  it('defaults: stdin ignored, output inherited, utf8', () => {
    expect(parseOptions('run', apiRunSchema, { rootfs: 'r.tar' })).toMatchObject({ stdin: 'ignore', stdout: 'inherit', stderr: 'inherit', encoding: 'utf8' });
  });

  it('takes every stdio form', () => {
    const stream = new PassThrough();
    const o = parseOptions('run', apiRunSchema, { rootfs: 'r.tar', stdin: stream, stdout: 'pipe', stderr: 3, timeout: 10, signal: new AbortController().signal });
    expect(o.stdin).toBe(stream);
    expect(o).toMatchObject({ stdout: 'pipe', stderr: 3, timeout: 10 });
    expect(parseOptions('run', apiRunSchema, { rootfs: 'r.tar', input: Buffer.from('x'), stdout: 'buffer', stderr: 'ignore', encoding: 'buffer' })).toMatchObject({ stdout: 'buffer' });
  });

  it('refuses bad values with one line naming the function and option', () => {
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', stdout: 'file.txt' }))).toMatchObject({ step: 'run', message: "invalid option 'stdout': expected 'inherit', 'pipe', 'buffer', 'ignore' or an fd number", hint: 'See docs/api.md.' });
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', stdin: 'some text' })).message).toMatch(/^invalid option 'stdin': .*give a string or Buffer as `input`/);
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', timeout: 0 })).message).toMatch(/^invalid option 'timeout'/);
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', signal: 'stop' })).message).toBe("invalid option 'signal': expected an AbortSignal");
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', colour: 1 })).message).toBe("unknown option 'colour'");
    expect(fail(() => parseOptions('run', apiRunSchema, {})).message).toMatch(/^invalid option 'rootfs'/);
  });

  it('refuses combinations that cannot both hold', () => {
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', input: 'x', stdin: 'inherit' })).message).toBe("invalid option 'input': give either `input` or `stdin`, not both");
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', tty: true, stdout: 'buffer' })).message).toMatch(/^invalid option 'tty'/);
  });

  it('has no options the API would ignore: stats (printed by the CLI), detach (runDetached)', () => {
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', stats: true })).message).toBe("unknown option 'stats'");
    expect(fail(() => parseOptions('run', apiRunSchema, { rootfs: 'r.tar', detach: true })).message).toBe("unknown option 'detach'");
    expect(fail(() => parseOptions('runDetached', apiDetachedSchema, { rootfs: 'r.tar', stdout: 'pipe' })).step).toBe('runDetached');
  });
});

describe('exec and container options', () => {
  it('exec takes env, workdir, user and the stdio forms', () => {
    expect(parseOptions('exec', apiExecSchema, { env: ['A=1'], workdir: '/w', stdout: 'buffer' })).toMatchObject({ env: ['A=1'], workdir: '/w', stdout: 'buffer', stdin: 'ignore' });
    expect(fail(() => parseOptions('exec', apiExecSchema, { env: 'A=1' })).message).toMatch(/^invalid option 'env'/);
  });

  it('kill takes a signal name or number', () => {
    expect(parseOptions('kill', apiKillSchema, undefined)).toMatchObject({ signal: 'SIGKILL' });
    expect(parseOptions('kill', apiKillSchema, { signal: 15 })).toMatchObject({ signal: 15 });
    expect(fail(() => parseOptions('kill', apiKillSchema, { signal: 99 })).message).toMatch(/^invalid option 'signal'/);
  });
});
