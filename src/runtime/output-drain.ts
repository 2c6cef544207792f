/**
 * The last of a command's output, after the command exited.
 *
 * Each copy of a container's output (the pty relay, a stdio pipe, a log pipe) ends by itself
 * when the last writer closes its source. A process the command left behind may hold the
 * source open for ever, so the wait after the exit is bounded. A clock alone is the wrong
 * bound: libuv runs expired timers before it polls for I/O, so a tsbox that was not scheduled
 * for longer than the bound (a loaded CI machine) would find its timer expired before it read
 * bytes that were waiting all along, and cut off the command's last line. So when the time is
 * up, the kernel is asked whether the source still holds bytes (poll, no wait); if it does,
 * the copy reads them first. Only output that keeps coming (a process left behind that keeps
 * writing) ends the wait, after PENDING_MAX_MS more.
 */
import type { Readable } from 'node:stream';
import { hasInput } from '../sys/fd.js';

export interface OutputCopy {
  /** Resolves when the copy ended: its source hung up or was closed. */
  readonly done: Promise<void>;
  /** Whether the source holds bytes the copy has not read yet. */
  pending(): boolean;
}

/** How long output that keeps coming after the exit is still copied. */
const PENDING_MAX_MS = 5000;
const RECHECK_MS = 20;

/**
 * `stream` reads `fd`: bytes are pending while the stream is open and the kernel has some.
 * (Once the stream is destroyed or ended its fd is closed, and the number may be reused.)
 */
export function pendingOn(stream: Readable, fd: number): () => boolean {
  return () => !stream.destroyed && !stream.readableEnded && hasInput(fd);
}

/** Copies that are all done when each is, pending while any is. */
export function allCopies(copies: ReadonlyArray<OutputCopy>): OutputCopy {
  return { done: Promise.all(copies.map((c) => c.done)).then(() => {}), pending: () => copies.some((c) => c.pending()) };
}

/** Resolves when `copy` ended, or `ms` after now once its source holds nothing more to read. */
export async function drainAfterExit(copy: OutputCopy, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bounded = new Promise<void>((resolve) => {
    const giveUpAt = Date.now() + ms + PENDING_MAX_MS;
    const check = () => {
      if (Date.now() < giveUpAt && copy.pending()) timer = setTimeout(check, RECHECK_MS);
      else resolve();
    };
    timer = setTimeout(check, ms);
  });
  try {
    await Promise.race([copy.done, bounded]);
  } finally {
    clearTimeout(timer);
  }
}
