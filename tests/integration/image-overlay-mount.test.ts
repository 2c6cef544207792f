/**
 * Stacking layers: 500 lowers through fsconfig `lowerdir+` (writable, every layer
 * visible), 501 refused as "flatten"; mount(2) used only when its option string fits in a
 * page (measured: past a page the kernel silently mounted a truncated, read-only stack).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { mountOverlay, NeedsFlattenError, probeLowerdirPlus } from '../../src/image/oci/overlay-mount.js';

let work: string;
let mnt: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'tsbox-ovl-'));
  mnt = join(work, 'mnt');
  mkdirSync(mnt);
});
afterEach(() => {
  try {
    execFileSync('umount', [mnt], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
  rmSync(work, { recursive: true, force: true });
});

function layers(n: number): string[] {
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = join(work, 'layers', `${'x'.repeat(40)}${i}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}`), String(i));
    writeFileSync(join(d, 'top'), String(i));
    dirs.push(d);
  }
  return dirs.reverse(); // top first
}

function upper(): { upperdir: string; workdir: string } {
  mkdirSync(join(work, 'u'));
  mkdirSync(join(work, 'w'));
  return { upperdir: join(work, 'u'), workdir: join(work, 'w') };
}

it.skipIf(!probeLowerdirPlus())('500 layers with lowerdir+: all visible, top wins, writable', () => {
  const dirs = layers(500);
  mountOverlay({ lowerDirs: dirs, upper: upper(), readOnly: false }, mnt);
  expect(readdirSync(mnt).filter((n) => n.startsWith('f'))).toHaveLength(500);
  expect(readFileSync(join(mnt, 'top'), 'utf8')).toBe('499');
  writeFileSync(join(mnt, 'new'), 'w');
  expect(readFileSync(join(work, 'u', 'new'), 'utf8')).toBe('w');
});

it('501 layers: flatten', () => {
  expect(() => mountOverlay({ lowerDirs: layers(501), readOnly: true }, mnt)).toThrow(NeedsFlattenError);
});

it('mount(2): a short stack mounts; 150 long paths (past a page) are refused, never truncated', () => {
  const dirs = layers(150);
  expect(() => mountOverlay({ lowerDirs: dirs, upper: upper(), readOnly: false, api: 'mount2' }, mnt)).toThrow(NeedsFlattenError);
  mountOverlay({ lowerDirs: dirs.slice(0, 5), readOnly: true, api: 'mount2' }, mnt);
  expect(readFileSync(join(mnt, 'top'), 'utf8')).toBe('149');
});
