/**
 * The wait socket of a detached --rm container (<state dir>/containers/<id>/wait.sock): a
 * --rm container's record, with its exit status, goes as the command exits, so `tsbox wait`
 * (docker's habit: `id=$(run -d --rm ...); wait $id`) asks its monitor instead of the record.
 *
 *   wait    -> monitor  (connects; sends nothing)
 *   monitor -> wait     {"t":"exited","exitCode":N}   when the command has exited
 *
 * The monitor removes the record only after every waiter hung up (bounded by ENDED_WAIT_MS),
 * and answers at once one that connects after the exit. Root's, in the record's 0700 directory.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

/** How long the monitor waits for its waiters to read the status and hang up. */
const ENDED_WAIT_MS = 30_000;

export interface WaitSocket {
  /** Tell every waiter (now and later) how the command ended; resolves when they hung up. */
  ended(exitCode: number): Promise<void>;
  /** Stop listening and remove the socket. */
  close(): void;
}

/** The monitor's side. */
export async function listenForWaiters(path: string): Promise<WaitSocket> {
  rmSync(path, { force: true });
  const waiters = new Set<Socket>();
  let exitCode: number | null = null;
  const answer = (conn: Socket) => conn.end(`${JSON.stringify({ t: 'exited', exitCode })}\n`);
  const server = createServer((conn) => {
    conn.on('error', () => undefined); // a waiter that went away has hung up
    waiters.add(conn);
    conn.once('close', () => waiters.delete(conn));
    if (exitCode !== null) answer(conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  server.unref(); // a listening socket must not keep the monitor alive
  return {
    async ended(code) {
      exitCode = code;
      const hungUp = [...waiters].map((conn) => new Promise<void>((resolve) => (conn.destroyed ? resolve() : conn.once('close', () => resolve()))));
      for (const conn of waiters) answer(conn);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(hungUp), new Promise<void>((resolve) => (timer = setTimeout(resolve, ENDED_WAIT_MS)))]);
      clearTimeout(timer);
    },
    close() {
      server.close();
      for (const conn of waiters) conn.destroy();
      rmSync(path, { force: true });
    },
  };
}

/**
 * `tsbox wait`'s side: the exit status the monitor reports; null when there is no monitor
 * to ask (no socket: not a --rm container, or gone) or it went away without saying.
 */
export function waitOnMonitor(path: string): Promise<number | null> {
  return new Promise((resolve) => {
    const conn = createConnection(path);
    let buf = '';
    conn.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      if (buf.length > 64 * 1024) conn.destroy();
    });
    conn.on('error', () => undefined); // ENOENT, ECONNREFUSED: 'close' answers null
    conn.once('close', () => {
      try {
        const m = JSON.parse(buf.slice(0, buf.indexOf('\n'))) as { t?: unknown; exitCode?: unknown };
        resolve(m.t === 'exited' && typeof m.exitCode === 'number' ? m.exitCode : null);
      } catch {
        resolve(null);
      }
    });
  });
}
