import { describe, expect, it, vi } from 'vitest';
import { formatBytes, formatProgress, PROGRESS_AFTER_MS, showProgress } from '../../src/image/progress.js';
import { parseCount } from '../../src/spec/units.js';

describe('extraction progress', () => {
  it('formats bytes, entries and rate; a share of the total when the size is known', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(formatProgress('busybox.tar', { inputBytes: 343_000_000, entries: 12_345 }, 2000, 686_000_000)).toBe(
      'extracting busybox.tar: 343.0 MB of 686.0 MB (50%), 12,345 entries, 171.5 MB/s',
    );
    expect(formatProgress('stdin', { inputBytes: 2048, entries: 3 }, 1000, null)).toBe('extracting stdin: 2.0 KB, 3 entries, 2.0 KB/s');
  });

  it('stays silent for a quick extraction, redraws in place after a second, and erases itself', () => {
    vi.useFakeTimers();
    try {
      const out: string[] = [];
      const p = { inputBytes: 0, entries: 0 };
      const quick = showProgress({ write: (t) => out.push(t) }, 'x', p, null);
      vi.advanceTimersByTime(PROGRESS_AFTER_MS - 1);
      quick.stop();
      expect(out).toEqual([]);

      const slow = showProgress({ write: (t) => out.push(t) }, 'x', p, null);
      vi.advanceTimersByTime(PROGRESS_AFTER_MS + 600);
      expect(out.length).toBeGreaterThanOrEqual(2);
      for (const line of out) expect(line).toMatch(/^\r\x1b\[Kextracting x: /);
      slow.stop();
      slow.stop();
      expect(out.filter((t) => t === '\r\x1b[K')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('--max-rootfs-entries', () => {
  it('takes a positive whole number, and refuses anything else in one line', () => {
    expect(parseCount('2000000', '--max-rootfs-entries')).toBe(2_000_000);
    for (const bad of ['0', '-1', '1.5', '1e6', 'many', '']) {
      expect(() => parseCount(bad, '--max-rootfs-entries')).toThrow(/^invalid --max-rootfs-entries value/);
    }
  });
});
