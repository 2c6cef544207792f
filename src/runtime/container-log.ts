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
      // Rotate between records, never inside one: each file holds whole lines. Records are
      // written in batches (one write per chunk unless a rotation falls inside it).
      let batch: Buffer[] = [];
      let batchSize = 0;
      const flush = () => {
        const buf = Buffer.concat(batch);
        for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
        size += buf.length;
        batch = [];
        batchSize = 0;
      };
      for (const record of frameRecords(stream, data, now())) {
        if (limits.maxSize !== null && size + batchSize > 0 && size + batchSize + record.length > limits.maxSize) {
          flush();
          rotate();
        }
        batch.push(record);
        batchSize += record.length;
      }
      flush();
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}
