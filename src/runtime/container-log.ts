/**
 * Writing a kept container's log (the format is in log-format.ts): each chunk a stream
 * produced becomes timestamped records, appended synchronously (a regular file: quick,
 * and it keeps chunks in order). With --log-opt max-size, a write that would take the
 * file past the limit first rotates it (planRotation), so the log never holds more than
 * about max-size x max-file bytes. The writer is the only one: the monitor or the named
 * foreground tsbox, which owns the container.
 */
import { closeSync, fstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { LogLimits } from '../spec/log-opts.js';
import { frameRecords, planRotation, type LogStream } from './log-format.js';

export interface ContainerLogWriter {
  write(stream: LogStream, data: Buffer): void;
  close(): void;
}

/** Wall-clock nanoseconds, monotonic within this process (Date has only milliseconds). */
export function nanoClock(): () => bigint {
  const epoch = BigInt(Date.now()) * 1_000_000n;
  const start = process.hrtime.bigint();
  return () => epoch + (process.hrtime.bigint() - start);
}

export function openContainerLog(path: string, limits: LogLimits, now: () => bigint = nanoClock()): ContainerLogWriter {
  let fd = openSync(path, 'a', 0o600);
  let size = fstatSync(fd).size;
  const rotate = () => {
    closeSync(fd);
    fd = -1;
    for (const step of planRotation(path, limits.maxFile)) {
      try {
        if (step.op === 'unlink') unlinkSync(step.path);
        else renameSync(step.from, step.to);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // fewer files than max-file yet
      }
    }
    fd = openSync(path, 'a', 0o600);
    size = 0;
  };
  return {
    write(stream, data) {
      if (data.length === 0 || fd < 0) return;
      // One write per chunk, unless the file fills up inside it: then rotate between two
      // records, never inside one, so each file holds whole lines.
      const { bytes, recordEnds } = frameRecords(stream, data, now());
      let from = 0;
      let prevEnd = 0;
      const flush = (to: number) => {
        for (let off = from; off < to; ) off += writeSync(fd, bytes, off, to - off);
        size += to - from;
        from = to;
      };
      if (limits.maxSize !== null) {
        for (const end of recordEnds) {
          if (size + (end - from) > limits.maxSize && size + (prevEnd - from) > 0) {
            flush(prevEnd);
            rotate();
          }
          prevEnd = end;
        }
      }
      flush(bytes.length);
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}
