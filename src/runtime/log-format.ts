/**
 * The log of a kept container (detached, or named): one file, container.log, holding both
 * streams in the order they were read, one line per line of output, in the CRI log format
 * (the one Kubernetes and podman's k8s-file driver write):
 *
 *   2026-11-30T18:55:00.123456789Z stdout F a whole line
 *   2026-11-30T18:55:00.200000000Z stderr P the start of a line that had no newline yet
 *
 * F ends a line; P is a piece of a line whose rest follows in a later record of the same
 * stream. One file for both streams, like docker's json-file, so `--log-opt max-size`
 * bounds what the container's output costs on disk, and `logs --since/--timestamps` have
 * a time for every line. Rotated files are container.log.1 (newest) .. container.log.N-1.
 *
 * Pure: framing, parsing, times, and which files to rename; the writer and the reader
 * (container-log.ts, log-reader.ts) do the I/O.
 */
import { UsageError } from '../errors.js';

export type LogStream = 'stdout' | 'stderr';

export interface LogPiece {
  /** Nanoseconds since the epoch. */
  time: bigint;
  stream: LogStream;
  /** false: the line goes on in the next piece of this stream (P). */
  complete: boolean;
  data: Buffer;
}

const NL = 0x0a;

/** RFC 3339 with nine fractional digits, in UTC: docker's RFC3339NanoFixed. */
export function formatTimestamp(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // 2026-11-30T18:55:00.123Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/**
 * RFC 3339 (any number of fractional digits, Z or ±hh:mm), or a date alone (YYYY-MM-DD, UTC).
 * Null when the text is not one.
 */
export function parseTimestamp(text: string): bigint | null {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (!m) return null;
  const [, date, time = '00:00:00', frac = '', zone = 'Z'] = m;
  const seconds = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}${zone === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}`);
  if (Number.isNaN(seconds)) return null;
  return BigInt(seconds) * 1_000_000n + BigInt(frac.padEnd(9, '0') || '0');
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, as docker takes "10m", "1h30m", "1.5s". Milliseconds; null if not one. */
export function parseDuration(text: string): number | null {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return null;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * DURATION_UNITS[unit!]!;
  return ms;
}

/**
 * `logs --since/--until`, as docker: an RFC 3339 time, a Unix time in seconds (with an
 * optional fraction), or a duration back from now ("10m", "1h30m").
 */
export function parseLogTime(text: string, flag: string, nowMs: number): bigint {
  const ts = parseTimestamp(text);
  if (ts !== null) return ts;
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  const ago = parseDuration(text);
  if (ago !== null) return BigInt(Math.round((nowMs - ago) * 1000)) * 1000n;
  throw new UsageError(`invalid ${flag} '${text}': expected a time (2024-01-02T15:04:05Z), Unix seconds, or a duration like 10m or 1h30m`);
}

/** The records for one chunk a stream produced: one per line, the last one partial (P) when the chunk did not end a line. */
export function frameRecords(stream: LogStream, data: Buffer, time: bigint): Buffer[] {
  const prefix = `${formatTimestamp(time)} ${stream} `;
  const out: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(NL, start);
    const end = nl < 0 ? data.length : nl;
    out.push(Buffer.concat([Buffer.from(`${prefix}${nl < 0 ? 'P' : 'F'} `), data.subarray(start, end), Buffer.from('\n')]));
    start = end + 1;
  }
  return out;
}

export function frameChunk(stream: LogStream, data: Buffer, time: bigint): Buffer {
  return Buffer.concat(frameRecords(stream, data, time));
}

/**
 * Parse whole records out of a buffer; `rest` is an incomplete last record (a reader
 * can meet a record while it is being written). A malformed line is skipped.
 */
export function parsePieces(buf: Buffer): { pieces: LogPiece[]; rest: Buffer } {
  const pieces: LogPiece[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(NL, start);
    if (nl < 0) break;
    const piece = parsePiece(buf.subarray(start, nl));
    if (piece) pieces.push(piece);
    start = nl + 1;
  }
  return { pieces, rest: buf.subarray(start) };
}

function parsePiece(line: Buffer): LogPiece | null {
  // "<timestamp> <stream> <F|P> <data>": the header is ASCII, the data any bytes but '\n'.
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  if (s2 < 0 || line.length < s2 + 2) return null;
  const time = parseTimestamp(line.subarray(0, s1).toString('latin1'));
  const stream = line.subarray(s1 + 1, s2).toString('latin1');
  const tag = String.fromCharCode(line[s2 + 1]!);
  if (time === null || (stream !== 'stdout' && stream !== 'stderr') || (tag !== 'F' && tag !== 'P')) return null;
  return { time, stream, complete: tag === 'F', data: line.subarray(Math.min(line.length, s2 + 3)) };
}

/** A line of output: the pieces of one stream up to an F, timed by its first piece. */
export interface LogLine {
  time: bigint;
  stream: LogStream;
  pieces: LogPiece[];
}

/** Group pieces into lines (an unfinished last line of a stream is a line too). */
export function groupLines(pieces: readonly LogPiece[]): LogLine[] {
  const lines: LogLine[] = [];
  const open = new Map<LogStream, LogLine>();
  for (const p of pieces) {
    let line = open.get(p.stream);
    if (!line) {
      line = { time: p.time, stream: p.stream, pieces: [] };
      lines.push(line);
      open.set(p.stream, line);
    }
    line.pieces.push(p);
    if (p.complete) open.delete(p.stream);
  }
  return lines;
}

export interface LogSelection {
  /** Nanoseconds; lines before are left out. */
  since: bigint | null;
  until: bigint | null;
  /** The last n lines (after since/until); null: all. */
  tail: number | null;
}

export function selectLines(lines: readonly LogLine[], sel: LogSelection): LogLine[] {
  const inRange = lines.filter((l) => (sel.since === null || l.time >= sel.since) && (sel.until === null || l.time <= sel.until));
  if (sel.tail === null) return inRange;
  return sel.tail === 0 ? [] : inRange.slice(-sel.tail);
}

/**
 * What `logs` prints for one piece: the data, a newline when it ends the line, and with
 * --timestamps the piece's time at the start of each line (`atLineStart` tracks, per stream,
 * whether the previous piece ended a line).
 */
export function renderPiece(p: LogPiece, timestamps: boolean, atLineStart: boolean): Buffer {
  const parts: Buffer[] = [];
  if (timestamps && atLineStart) parts.push(Buffer.from(`${formatTimestamp(p.time)} `));
  parts.push(p.data);
  if (p.complete) parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

export type RotationStep = { op: 'unlink'; path: string } | { op: 'rename'; from: string; to: string };

/**
 * Make room for a new current file: drop the oldest, shift the others by one, the current
 * becomes .1. With max-file=1 the current file is simply started afresh.
 */
export function planRotation(path: string, maxFile: number): RotationStep[] {
  if (maxFile <= 1) return [{ op: 'unlink', path }];
  const steps: RotationStep[] = [{ op: 'unlink', path: `${path}.${maxFile - 1}` }];
  for (let i = maxFile - 2; i >= 1; i--) steps.push({ op: 'rename', from: `${path}.${i}`, to: `${path}.${i + 1}` });
  steps.push({ op: 'rename', from: path, to: `${path}.1` });
  return steps;
}

/** The files of a log, oldest first: rotated ones (highest number first), then the current one. */
export function filesInOrder(path: string, names: readonly string[], base: string): string[] {
  const dir = path.slice(0, path.length - base.length);
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : NaN))
    .filter((n) => Number.isInteger(n) && n >= 1)
    .sort((a, b) => b - a)
    .map((n) => `${dir}${base}.${n}`);
  return [...rotated, path];
}
