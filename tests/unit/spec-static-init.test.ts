/** --init refuses to start, with the package to install, when the host has no static tini. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkStaticInit } from '../../src/spec/run-spec.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbox-static-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkStaticInit', () => {
  it('refuses a missing binary with one line naming the package (exit 125)', async () => {
    const err = await checkStaticInit(join(dir, 'tini-static')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(125);
    expect((err as UsageError).message).toBe(`--init needs tini, and ${join(dir, 'tini-static')} is not installed`);
    expect((err as UsageError).hint).toMatch(/apt-get install tini/);
  });

  it('refuses a directory or a file that is not executable, accepts an executable file', async () => {
    await expect(checkStaticInit(dir)).rejects.toBeInstanceOf(UsageError);
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    await expect(checkStaticInit(file)).rejects.toBeInstanceOf(UsageError);
    chmodSync(file, 0o755);
    await expect(checkStaticInit(file)).resolves.toBeUndefined();
  });
});
