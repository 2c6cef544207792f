/**
 * Reading a kept container's log for `tsbox logs` and `tsbox attach`: the rotated files
 * oldest first, then the current one; with follow, the current file as it grows, and
 * across a rotation (the writer renamed it and started a new one: we finish the old file
 * through the fd we hold, then go on with the new one from its start).
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { filesInOrder, LineSelector, recordPrefix, scanRecords, type LogRecord, type LogSelection, type LogStream } from './log-format.js';

export interface LogReadOptions extends LogSelection {
  follow: boolean;
  timestamps: boolean;
  /** Start at the end: only what is written from now on (attach). */
  fromNow?: boolean;
}

const POLL_MS = 100;

/** Print the log; with follow, until `finished()` says the container is over and everything it wrote was printed. */
export async function readContainerLog(path: string, opts: LogReadOptions, finished: () => boolean, out: { stdout: number; stderr: number } = { stdout: 1, stderr: 2 }): Promise<void> {
  const atLineStart: Record<LogStream, boolean> = { stdout: true, stderr: true };
  const output = new Batcher();
  const print = (buf: Buffer, r: Readonly<LogRecord>) => {
    if (opts.until !== null && r.time > opts.until) return;
    const fd = r.stream === 'stdout' ? out.stdout : out.stderr;
    const prefix = recordPrefix(r.time, opts.timestamps, atLineStart[r.stream]);
    if (prefix !== '') output.add(fd, Buffer.from(prefix), 0, prefix.length);
    output.add(fd, buf, r.start, r.complete ? r.end + 1 : r.end); // the record's '\n' ends the line
    atLineStart[r.stream] = r.complete;
  };
  try {
    await readAndFollow(path, opts, finished, print, () => output.flush());
  } finally {
    output.flush();
  }
}

/** The log as it is now, each stream's bytes apart (what the API's logs() returns); `tail` counts lines of both streams, as `tsbox logs`. */
export async function collectContainerLog(path: string, sel: LogSelection): Promise<Record<LogStream, Buffer>> {
  const chunks: Record<LogStream, Buffer[]> = { stdout: [], stderr: [] };
  const keep: Print = (buf, r) => {
    if (sel.until !== null && r.time > sel.until) return;
    chunks[r.stream].push(Buffer.from(buf.subarray(r.start, r.complete ? r.end + 1 : r.end)));
  };
  await readAndFollow(path, { ...sel, follow: false, timestamps: false }, () => true, keep, () => {});
  return { stdout: Buffer.concat(chunks.stdout), stderr: Buffer.concat(chunks.stderr) };
}

type Print = (buf: Buffer, r: Readonly<LogRecord>) => void;

async function readAndFollow(path: string, opts: LogReadOptions, finished: () => boolean, print: Print, flush: () => void): Promise<void> {
  // Everything written so far: the rotated files, and the current one through an fd we keep.
  let current = openIfExists(path);
  let offset = current === null ? 0 : fstatSync(current).size;
  // A record being written as we read: kept, and completed by what follows.
  let rest: Buffer = Buffer.alloc(0);
  if (!opts.fromNow) {
    const buffers = filesInOrder(path, listDir(dirname(path)), basename(path)).slice(0, -1).map((f) => readRange(f, null, 0, Infinity));
    if (current !== null) buffers.push(readRange(path, current, 0, offset));
    // --tail: a first pass counts the lines in range, the second skips all but the last ones.
    let skip = 0;
    if (opts.tail !== null) {
      const counter = new LineSelector(opts, Infinity);
      for (const buf of buffers) scanRecords(buf, (r) => counter.accept(r));
      skip = Math.max(0, counter.inRange - opts.tail);
    }
    const selector = new LineSelector(opts, skip);
    buffers.forEach((buf, i) => {
      const end = scanRecords(buf, (r) => {
        if (selector.accept(r)) print(buf, r);
      });
      if (i === buffers.length - 1 && current !== null) rest = buf.subarray(end);
    });
  }
  if (!opts.follow) {
    if (current !== null) closeSync(current);
    return;
  }

  // Follow: whole records as they are appended.
  const since = opts.since;
  const printNew = (buf: Buffer): number =>
    scanRecords(buf, (r) => {
      if (since === null || r.time >= since) print(buf, r);
    });
  const drain = () => {
    if (current === null) return;
    const more = readRange(path, current, offset, Infinity);
    offset += more.length;
    const buf = rest.length === 0 ? more : Buffer.concat([rest, more]);
    rest = buf.subarray(printNew(buf));
  };
  try {
    for (;;) {
      const over = finished();
      drain();
      // Rotated (or created) under us: finish the old file, read every file rotated since
      // (several rotations can happen between two polls), then follow the new current one.
      const ino = inode(path);
      if (ino !== null && (current === null || ino !== fstatSync(current).ino)) {
        let held: number | null = null;
        if (current !== null) {
          drain(); // the writer finished this file before it renamed it: read its very end
          held = fstatSync(current).ino;
          closeSync(current);
        }
        const files = filesInOrder(path, listDir(dirname(path)), basename(path)).slice(0, -1);
        const at = held === null ? -1 : files.findIndex((f) => inode(f) === held);
        for (const file of files.slice(at + 1)) printNew(readRange(file, null, 0, Infinity));
        current = openIfExists(path);
        offset = 0;
        rest = Buffer.alloc(0);
        continue;
      }
      if (over) return;
      flush();
      await sleep(POLL_MS);
    }
  } finally {
    if (current !== null) closeSync(current);
  }
}

/**
 * Output in large writes (a log can hold millions of lines), copied into one staging
 * buffer and flushed when it fills or the stream changes, so stdout and stderr lines keep
 * their order on a shared terminal.
 */
class Batcher {
  private fd = -1;
  private readonly buf = Buffer.allocUnsafe(1 << 16);
  private used = 0;

  add(fd: number, data: Buffer, start: number, end: number): void {
    if (fd !== this.fd) this.flush();
    this.fd = fd;
    if (end - start > this.buf.length - this.used) {
      this.flush();
      if (end - start > this.buf.length) return writeAll(fd, data.subarray(start, end));
    }
    this.used += data.copy(this.buf, this.used, start, end);
  }

  flush(): void {
    if (this.used > 0) writeAll(this.fd, this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

function openIfExists(path: string): number | null {
  try {
    return openSync(path, 'r');
  } catch {
    return null;
  }
}

function inode(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Bytes [from, to) of a file (through fd when given), up to its current end. */
function readRange(path: string, fd: number | null, from: number, to: number): Buffer {
  let own: number | null = null;
  if (fd === null) {
    own = openIfExists(path);
    if (own === null) return Buffer.alloc(0);
  }
  const f = (fd ?? own)!;
  try {
    const end = Math.min(to, fstatSync(f).size);
    if (end <= from) return Buffer.alloc(0);
    const buf = Buffer.alloc(end - from);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(f, buf, n, buf.length - n, from + n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    if (own !== null) closeSync(own);
  }
}

function writeAll(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
}
