/**
 * --explain with -d, create or start: the setup runs in the container's monitor, whose
 * stderr is monitor.log. The front end opens that log for reading, at its current end,
 * before asking the monitor, and once the monitor replied (created, started or failed)
 * copies what it wrote since to its own stderr: the explanation reaches the user as with a
 * foreground run. Read through the fd: a failed run's record, log included, is already
 * removed when the monitor replies.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

export interface LogRelay {
  /** Copy what was appended since the relay was opened to fd (stderr), and close. */
  copyTo(fd?: number): boolean;
}

/** null when the log cannot be opened (nothing will be copied). */
export function relayLog(path: string): LogRelay | null {
  let src: number;
  try {
    src = openSync(path, 'r');
  } catch {
    return null;
  }
  const from = fstatSync(src).size;
  return {
    copyTo(fd = 2) {
      try {
        const size = fstatSync(src).size;
        const buf = Buffer.alloc(64 * 1024);
        for (let pos = from; pos < size; ) {
          const n = readSync(src, buf, 0, Math.min(buf.length, size - pos), pos);
          if (n <= 0) break;
          writeSync(fd, buf, 0, n);
          pos += n;
        }
        return size > from;
      } finally {
        closeSync(src);
      }
    },
  };
}
