/**
 * Writing to the user's stdout or stderr from the event loop, for the copies tsbox makes
 * (runtime/output-log.ts, runtime/stdio-relay.ts): that fd may be a slow pipe or a terminal
 * someone else set non-blocking, so a write may take part of the data or fail with EAGAIN.
 */
import { closeSync, write } from 'node:fs';

/** How long to wait before writing again after EAGAIN. */
const RETRY_MS = 2;

/** Write all of `data` to `fd` without blocking the event loop. */
export async function writeAllAsync(fd: number, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; ) {
    off += await new Promise<number>((resolve, reject) =>
      write(fd, data, off, data.length - off, null, (err, n) => {
        if (!err) return resolve(n);
        if (err.code === 'EAGAIN') return void setTimeout(() => resolve(0), RETRY_MS);
        reject(err);
      }),
    );
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
