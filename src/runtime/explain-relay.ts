/**
 * --explain with -d or create: the setup runs in the container's monitor, whose stderr is
 * monitor.log. The front end notes where that log ends before the monitor starts and, once
 * the monitor replied (created, started or failed), copies what it wrote since to its own
 * stderr: the explanation of the setup reaches the user as with a foreground run.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';

/** The log's current size: where the monitor's writes will start. */
export function logEnd(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Copy `path` from `offset` to its end onto fd (stderr). Best effort: a missing log copies nothing. */
export function copyLogFrom(path: string, offset: number, fd = 2): void {
  let src: number;
  try {
    src = openSync(path, 'r');
  } catch {
    return;
  }
  try {
    const size = fstatSync(src).size;
    const buf = Buffer.alloc(64 * 1024);
    for (let pos = offset; pos < size; ) {
      const n = readSync(src, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n <= 0) break;
      writeSync(fd, buf, 0, n);
      pos += n;
    }
  } finally {
    closeSync(src);
  }
}
