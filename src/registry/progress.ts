/**
 * The pull's progress on a terminal: one line per layer (done/total bytes, rate), redrawn
 * in place at most 10 times a second, plus a total. Nothing at all when stderr is not a
 * terminal (logs and scripts get only the result).
 */
import { writeSync } from 'node:fs';
import type { BlobProgress } from './fetch-blob.js';

interface Line {
  digest: string;
  total: number;
  done: number;
  startedAt: number;
  startBytes: number;
  state: 'waiting' | 'downloading' | 'done' | 'exists';
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function renderLine(l: Line, now: number): string {
  const id = l.digest.slice(l.digest.indexOf(':') + 1, l.digest.indexOf(':') + 13);
  if (l.state === 'exists') return `${id}: already present`;
  if (l.state === 'done') return `${id}: done ${formatBytes(l.total)}`;
  if (l.state === 'waiting') return `${id}: waiting`;
  const secs = (now - l.startedAt) / 1000;
  const rate = secs > 0 ? (l.done - l.startBytes) / secs : 0;
  const pct = l.total > 0 ? Math.floor((l.done / l.total) * 100) : 100;
  return `${id}: ${formatBytes(l.done)} / ${formatBytes(l.total)} (${pct}%) ${formatBytes(Math.round(rate))}/s`;
}

export class TerminalProgress implements BlobProgress {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;
  private lastDraw = 0;
  private readonly fd: number;
  private readonly enabled: boolean;

  constructor(fd = 2, enabled = process.stderr.isTTY === true) {
    this.fd = fd;
    this.enabled = enabled;
  }

  /** Lay out every layer up front, so lines keep their places. */
  plan(digests: string[], present: Set<string>): void {
    for (const d of digests) this.lines.set(d, { digest: d, total: 0, done: 0, startedAt: 0, startBytes: 0, state: present.has(d) ? 'exists' : 'waiting' });
    this.draw(true);
  }

  start(digest: string, total: number, done: number): void {
    this.lines.set(digest, { digest, total, done, startedAt: Date.now(), startBytes: done, state: 'downloading' });
    this.draw(false);
  }

  advance(digest: string, bytes: number): void {
    const l = this.lines.get(digest);
    if (l) l.done += bytes;
    this.draw(false);
  }

  finish(digest: string): void {
    const l = this.lines.get(digest);
    if (l) {
      l.state = 'done';
      l.done = l.total;
    }
    this.draw(true);
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const rows = [...this.lines.values()].map((l) => renderLine(l, now));
    // Move up over what was drawn last time, then rewrite each row and clear its rest.
    const text = (this.drawn > 0 ? `\x1b[${this.drawn}A` : '') + rows.map((r) => `\r${r}\x1b[K\n`).join('');
    this.drawn = rows.length;
    try {
      writeSync(this.fd, text);
    } catch {
      // a closed terminal must not fail the pull
    }
  }
}
