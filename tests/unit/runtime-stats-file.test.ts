import { existsSync, linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { statsFileProblem, writeStatsFile } from '../../src/runtime/stats-file.js';

describe('statsFileProblem', () => {
  it('accepts only a regular file of the caller with one link', () => {
    expect(statsFileProblem({ kind: 'file', uid: 0, nlink: 1 }, 0)).toBeNull();
    expect(statsFileProblem({ kind: 'symlink', uid: 0, nlink: 1 }, 0)).toMatch(/symbolic link/);
    expect(statsFileProblem({ kind: 'other', uid: 0, nlink: 1 }, 0)).toMatch(/not a regular file/);
    expect(statsFileProblem({ kind: 'directory', uid: 0, nlink: 2 }, 0)).toMatch(/directory/);
    expect(statsFileProblem({ kind: 'file', uid: 65534, nlink: 1 }, 0)).toMatch(/belongs to uid 65534/);
    expect(statsFileProblem({ kind: 'file', uid: 0, nlink: 2 }, 0)).toMatch(/2 hard links/);
  });
});

describe('writeStatsFile: the checks hold on the opened file (a name swapped after the early check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbox-stats-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a new file 0644, and replaces the content of its own', () => {
    const p = join(dir, 'new.json');
    writeStatsFile(p, '{"a":1}\n');
    writeStatsFile(p, '{}\n');
    expect(readFileSync(p, 'utf8')).toBe('{}\n');
  });

  it('refuses a symlink without touching its target', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'keep\n');
    symlinkSync(target, join(dir, 'link.json'));
    expect(() => writeStatsFile(join(dir, 'link.json'), 'x')).toThrow(/symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.json'));
    expect(() => writeStatsFile(join(dir, 'dangling.json'), 'x')).toThrow(/symbolic link/);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });

  it('refuses a hard link and a FIFO (without blocking)', () => {
    const other = join(dir, 'other');
    writeFileSync(other, 'keep\n');
    linkSync(other, join(dir, 'hard.json'));
    expect(() => writeStatsFile(join(dir, 'hard.json'), 'x')).toThrow(/2 hard links/);
    expect(readFileSync(other, 'utf8')).toBe('keep\n');
    execFileSync('mkfifo', [join(dir, 'fifo.json')]);
    expect(() => writeStatsFile(join(dir, 'fifo.json'), 'x')).toThrow(/FIFO/);
  });
});
