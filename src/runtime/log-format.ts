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

/** A chunk as records: the bytes to append, and where each record ends in them (rotation happens only there). */
export interface Framed {
  bytes: Buffer;
  recordEnds: number[];
}

/**
 * The records for one chunk a stream produced: one per line, the last one partial (P) when
 * the chunk did not end a line. Built in one buffer: a chatty container makes millions.
 */
export function frameRecords(stream: LogStream, data: Buffer, time: bigint): Framed {
  const prefix = Buffer.from(`${formatTimestamp(time)} ${stream} F `, 'latin1');
  let records = 0;
  for (let i = data.indexOf(NL); i >= 0; i = data.indexOf(NL, i + 1)) records++;
  const partial = data.length > 0 && data[data.length - 1] !== NL;
  if (partial) records++;
  const bytes = Buffer.allocUnsafe(data.length + records * prefix.length + (partial ? 1 : 0));
  const recordEnds: number[] = [];
  let at = 0;
  for (let start = 0; start < data.length; ) {
    const nl = data.indexOf(NL, start);
    const end = nl < 0 ? data.length : nl;
    at += prefix.copy(bytes, at);
    if (nl < 0) bytes[at - 2] = 0x50; // 'P'
    at += data.copy(bytes, at, start, end);
    bytes[at++] = NL;
    recordEnds.push(at);
    start = end + 1;
  }
  return { bytes, recordEnds };
}

export function frameChunk(stream: LogStream, data: Buffer, time: bigint): Buffer {
  return frameRecords(stream, data, time).bytes;
}

/** A record, as indices into the buffer it was read from: its data is buf[start, end). */
export interface LogRecord {
  time: bigint;
  stream: LogStream;
  /** false: the line goes on in the next record of this stream (P). */
  complete: boolean;
  start: number;
  end: number;
}

/**
 * Visit every whole record of a buffer, in order; returns where an incomplete last record
 * starts (a reader can meet one while it is written). Malformed lines are skipped. The
 * record passed to `visit` is reused: a log can hold millions, so nothing is allocated per
 * record but the timestamp's text (and that is parsed once per chunk the writer framed).
 */
export function scanRecords(buf: Buffer, visit: (r: Readonly<LogRecord>) => void): number {
  const r: LogRecord = { time: 0n, stream: 'stdout', complete: true, start: 0, end: 0 };
  // The previous record's timestamp (its bytes, where they are in buf, and its value).
  let lastStart = -1;
  let lastLength = 0;
  let lastTime: bigint | null = null;
  let start = 0;
  for (let nl = buf.indexOf(NL); nl >= 0; start = nl + 1, nl = buf.indexOf(NL, start)) {
    // "<timestamp> <stream> <F|P> <data>": "stdout" and "stderr" both have 6 letters.
    const s1 = buf.indexOf(0x20, start);
    if (s1 < 0 || s1 + 9 > nl || buf[s1 + 7] !== 0x20 || buf[s1 + 9] !== 0x20) continue;
    const stream = streamAt(buf, s1 + 1);
    const tag = buf[s1 + 8];
    if (stream === null || (tag !== 0x46 && tag !== 0x50)) continue;
    if (!sameBytes(buf, lastStart, lastLength, start, s1 - start)) {
      lastStart = start;
      lastLength = s1 - start;
      lastTime = parseTimestamp(buf.toString('latin1', start, s1));
    }
    if (lastTime === null) continue;
    r.time = lastTime;
    r.stream = stream;
    r.complete = tag === 0x46;
    r.start = s1 + 10;
    r.end = nl;
    visit(r);
  }
  return start;
}

/** "stdout" or "stderr" at buf[at..at+6), compared byte by byte (no string per record). */
function streamAt(buf: Buffer, at: number): LogStream | null {
  if (buf[at] !== 0x73 || buf[at + 1] !== 0x74 || buf[at + 2] !== 0x64) return null; // "std"
  if (buf[at + 3] === 0x6f && buf[at + 4] === 0x75 && buf[at + 5] === 0x74) return 'stdout';
  if (buf[at + 3] === 0x65 && buf[at + 4] === 0x72 && buf[at + 5] === 0x72) return 'stderr';
  return null;
}

function sameBytes(buf: Buffer, a: number, aLength: number, b: number, bLength: number): boolean {
  if (a < 0 || aLength !== bLength) return false;
  for (let i = bLength - 1; i >= 0; i--) if (buf[a + i] !== buf[b + i]) return false; // the nanoseconds differ first
  return true;
}

/** Records as objects with their data (for tests and small logs). */
export function parsePieces(buf: Buffer): { pieces: LogPiece[]; rest: Buffer } {
  const pieces: LogPiece[] = [];
  const rest = scanRecords(buf, (r) => pieces.push({ time: r.time, stream: r.stream, complete: r.complete, data: buf.subarray(r.start, r.end) }));
  return { pieces, rest: buf.subarray(rest) };
}

export interface LogSelection {
  /** Nanoseconds; lines before are left out. */
  since: bigint | null;
  until: bigint | null;
  /** The last n lines (after since/until); null: all. */
  tail: number | null;
}

/**
 * Which records `logs` prints, one record at a time: whole lines (the records of a stream
 * up to an F), kept or dropped by the time of their first record, and, of the lines in
 * range, all but the first `skip` (for --tail: count the lines in range with skip = Infinity,
 * then read again skipping count - tail).
 */
export class LineSelector {
  private readonly open: Record<LogStream, boolean | null> = { stdout: null, stderr: null };
  /** Lines in range met so far. */
  inRange = 0;

  constructor(
    private readonly sel: Pick<LogSelection, 'since' | 'until'>,
    private readonly skip: number,
  ) {}

  accept(r: Pick<LogRecord, 'time' | 'stream' | 'complete'>): boolean {
    let keep = this.open[r.stream];
    if (keep === null) {
      const inRange = (this.sel.since === null || r.time >= this.sel.since) && (this.sel.until === null || r.time <= this.sel.until);
      keep = inRange && this.inRange++ >= this.skip;
    }
    this.open[r.stream] = r.complete ? null : keep;
    return keep;
  }
}

/**
 * What `logs` prints before a record's data: with --timestamps, its time at the start of
 * each line (`atLineStart`: the stream's previous record ended a line). After it: a newline
 * when it ends the line.
 */
export function recordPrefix(time: bigint, timestamps: boolean, atLineStart: boolean): string {
  return timestamps && atLineStart ? `${formatTimestamp(time)} ` : '';
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
