/**
 * Reading a kept container's log for `tsbox logs` and `tsbox attach`: the rotated files
 * oldest first, then the current one; with follow, the current file as it grows, and
 * across a rotation (the writer renamed it and started a new one: we finish the old file
 * through the fd we hold, then go on with the new one from its start).
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { filesInOrder, groupLines, parsePieces, renderPiece, selectLines, type LogPiece, type LogSelection, type LogStream } from './log-format.js';

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
  const print = (p: LogPiece) => {
    if (opts.until !== null && p.time > opts.until) return;
    writeAll(p.stream === 'stdout' ? out.stdout : out.stderr, renderPiece(p, opts.timestamps, atLineStart[p.stream]));
    atLineStart[p.stream] = p.complete;
  };

  // Everything written so far: the rotated files, and the current one through an fd we keep.
  let current = openIfExists(path);
  let offset = current === null ? 0 : fstatSync(current).size;
  // A record being written as we read: kept, and completed by what follows.
  let rest: Buffer = Buffer.alloc(0);
  if (!opts.fromNow) {
    const pieces: LogPiece[] = [];
    for (const file of filesInOrder(path, listDir(dirname(path)), basename(path)).slice(0, -1)) pieces.push(...parsePieces(readRange(file, null, 0, Infinity)).pieces);
    if (current !== null) {
      const parsed = parsePieces(readRange(path, current, 0, offset));
      pieces.push(...parsed.pieces);
      rest = parsed.rest;
    }
    for (const line of selectLines(groupLines(pieces), opts)) line.pieces.forEach(print);
  }
  if (!opts.follow) {
    if (current !== null) closeSync(current);
    return;
  }

  // Follow: whole records as they are appended.
  const since = opts.since;
  const drain = () => {
    if (current === null) return;
    const more = readRange(path, current, offset, Infinity);
    offset += more.length;
    const parsed = parsePieces(Buffer.concat([rest, more]));
    rest = parsed.rest;
    for (const p of parsed.pieces) if (since === null || p.time >= since) print(p);
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
        for (const file of files.slice(at + 1)) {
          const parsed = parsePieces(readRange(file, null, 0, Infinity));
          for (const p of parsed.pieces) if (since === null || p.time >= since) print(p);
        }
        current = openIfExists(path);
        offset = 0;
        rest = Buffer.alloc(0);
        continue;
      }
      if (over) return;
      await sleep(POLL_MS);
    }
  } finally {
    if (current !== null) closeSync(current);
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
