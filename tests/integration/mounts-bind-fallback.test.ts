/**
 * mounts/bind.ts against the real kernel, in a private mount namespace (no container): binds
 * are read-only (and nodev where planned) on every mount of the tree, through the new mount
 * API and through the fallback for kernels without it, which a test cannot otherwise reach on
 * a new kernel: the child is given mount calls that fail with ENOSYS as an old kernel's do.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../helpers/bind-fallback-child.mjs', import.meta.url));
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(inject('workDir'), 'bind-fallback-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runChild(mode: string): Record<string, Record<string, string | null> | boolean> {
  const base = mkdtempSync(join(scratch, `${mode}-`));
  mkdirSync(join(base, 'src/sub'), { recursive: true });
  writeFileSync(join(base, 'file'), 'host file\n');
  mkdirSync(join(base, 'root/kept'), { recursive: true });
  writeFileSync(join(base, 'root/secret'), 'secret\n');
  // A submount inside the volume's source: `:ro` must reach it too (recursive read-only).
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=1m sub "${base}/src/sub" && exec "${process.execPath}" "${CHILD}" "${base}" ${mode}`], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const ro = (options: unknown) => String(options).split(',').includes('ro');

describe('binds made read-only before they are attached', () => {
  for (const mode of ['native', 'no-open-tree', 'no-setattr']) {
    it(`${mode}: the volume, the file bind, the read-only path and the mask refuse writes; the writable bind stays writable; no staging point left`, () => {
      const r = runChild(mode) as Record<string, Record<string, string | null>> & { staging: boolean };
      expect(ro(r.vol.options), JSON.stringify(r)).toBe(true);
      expect(r.vol.options).toMatch(/nodev/);
      expect(r.vol.write).toBe('EROFS');
      expect(ro(r.file.options)).toBe(true);
      expect(r.file.write).toBe('EROFS');
      expect(r.rw.write).toBe('written');
      expect(ro(r.kept.options)).toBe(true);
      expect(r.kept.write).toBe('EROFS');
      expect(r.secret.content).toBe('');
      expect(r.secret.write).toBe('EROFS');
      expect(r.staging).toBe(false);
      // The new API makes the whole tree read-only; a remount (the fallback) reaches the top only.
      if (mode === 'native') expect(ro(r.vol.sub)).toBe(true);
    });
  }
});
