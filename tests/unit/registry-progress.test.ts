/** The terminal progress display: one line per layer, redrawn in place; silent when disabled. */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatBytes, TerminalProgress } from '../../src/registry/progress.js';
import { scratchDirs } from '../helpers/scratch.js';

const scratch = scratchDirs();

const a = `sha256:${'a'.repeat(64)}`;
const b = `sha256:${'b'.repeat(64)}`;

function capture(enabled: boolean, drive: (p: TerminalProgress) => void): string {
  const file = join(scratch('tsbox-progress-'), 'out');
  const fd = openSync(file, 'w');
  drive(new TerminalProgress(fd, enabled));
  closeSync(fd);
  return readFileSync(file, 'utf8');
}

describe('TerminalProgress', () => {
  it('draws every layer, then moves up and redraws in place', () => {
    const out = capture(true, (p) => {
      p.plan([a, b], new Set([b]));
      p.start(a, 2_000_000, 500_000);
      p.finish(a);
    });
    expect(out).toContain('aaaaaaaaaaaa: waiting');
    expect(out).toContain('bbbbbbbbbbbb: already present');
    expect(out).toContain('\x1b[2A'); // back over the two lines
    expect(out.trimEnd().split('\n').at(-2)).toContain('aaaaaaaaaaaa: done 2.00 MB');
  });

  it('writes nothing when stderr is not a terminal', () => {
    expect(capture(false, (p) => {
      p.plan([a], new Set());
      p.start(a, 10, 0);
      p.advance(a, 10);
      p.finish(a);
    })).toBe('');
  });

  it('formats sizes as docker does (decimal units)', () => {
    expect([formatBytes(999), formatBytes(1000), formatBytes(12_345_678), formatBytes(2.5e9)]).toEqual(['999 B', '1.00 kB', '12.3 MB', '2.50 GB']);
  });
});
