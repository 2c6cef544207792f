/**
 * A status line on a terminal while an extraction takes long: bytes read (of how many,
 * when the archive's size is known), entries, rate. Shown only after PROGRESS_AFTER_MS,
 * so quick extractions stay silent, refreshed in place ("\r", erase line), and erased at
 * the end. The caller decides where it goes (stderr, only when it is a terminal).
 */
import type { ExtractProgress } from './extract.js';

export const PROGRESS_AFTER_MS = 1000;
const REFRESH_MS = 250;
const ERASE = '\r\x1b[K';

/** Where the line goes. */
export interface ProgressOutput {
  write(text: string): void;
}

/** 1536 → "1.5 KB" (decimal units, as download tools show them). */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The status line. Pure. */
export function formatProgress(what: string, p: ExtractProgress, elapsedMs: number, totalBytes: number | null): string {
  const read = totalBytes !== null && totalBytes > 0
    ? `${formatBytes(p.inputBytes)} of ${formatBytes(totalBytes)} (${Math.min(100, Math.floor((p.inputBytes / totalBytes) * 100))}%)`
    : formatBytes(p.inputBytes);
  const rate = elapsedMs > 0 ? `${formatBytes(Math.round((p.inputBytes / elapsedMs) * 1000))}/s` : '';
  return `extracting ${what}: ${read}, ${p.entries.toLocaleString('en-US')} entries, ${rate}`;
}

/** Start watching `p`; stop() erases the line if one was shown. */
export function showProgress(out: ProgressOutput, what: string, p: ExtractProgress, totalBytes: number | null): { stop(): void } {
  const started = performance.now();
  let shown = false;
  let refresh: NodeJS.Timeout | null = null;
  const draw = () => {
    shown = true;
    out.write(`${ERASE}${formatProgress(what, p, performance.now() - started, totalBytes)}`);
  };
  const first = setTimeout(() => {
    draw();
    refresh = setInterval(draw, REFRESH_MS);
    refresh.unref();
  }, PROGRESS_AFTER_MS);
  first.unref();
  return {
    stop() {
      clearTimeout(first);
      if (refresh) clearInterval(refresh);
      if (shown) out.write(ERASE);
      shown = false;
    },
  };
}
