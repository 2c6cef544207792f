/**
 * The start socket of a created container (<root>/containers/<id>/start.sock): how
 * `tsbox start` tells the monitor that holds the container to release its init, and hears
 * back whether the command runs. One line each way, JSON:
 *
 *   start  -> monitor  {"t":"start"}
 *   monitor -> start   {"t":"started","pid":N}  or  {"t":"error",message,step,hint,exitCode}
 *
 * The socket lives in the record's directory (mode 0700, root's): only root can start a
 * container, as only root can create one. It is removed with the record.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { TsboxError } from '../errors.js';

export interface StartRequest {
  /** Answer the `tsbox start` that asked, then close its connection. */
  reply(message: object): Promise<void>;
}

/** The monitor's side: `ready` once listening; `request` once a `tsbox start` asked. */
export function listenForStart(path: string): { ready: Promise<void>; request: Promise<StartRequest> } {
  rmSync(path, { force: true }); // a socket left by a previous life of this container (restart)
  let resolveRequest!: (r: StartRequest) => void;
  const request = new Promise<StartRequest>((resolve) => (resolveRequest = resolve));
  const server = createServer((conn) => {
    readLine(conn).then((line) => {
      if (line === null || safeParse(line)?.t !== 'start') return void conn.destroy();
      server.close(); // one start per creation
      resolveRequest({
        reply: (message) => new Promise<void>((resolve) => conn.end(`${JSON.stringify(message)}\n`, () => resolve())),
      });
    }, () => conn.destroy());
  });
  const ready = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return { ready, request };
}

/** `tsbox start`'s side: ask, and return the monitor's answer. */
export async function requestStart(path: string, who: string): Promise<{ t: 'started'; pid: number } | { t: 'error'; message: string; step?: string; hint?: string; exitCode: number }> {
  const conn = createConnection(path);
  await new Promise<void>((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', (e) => reject(new TsboxError(`cannot reach the monitor of container ${who}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { step: 'start', hint: 'It may have been started or removed meanwhile; see tsbox ps -a.' })));
  });
  conn.write(`${JSON.stringify({ t: 'start' })}\n`);
  const line = await readLine(conn);
  conn.destroy();
  const reply = line === null ? null : safeParse(line);
  if (reply?.t === 'started' && typeof reply.pid === 'number') return { t: 'started', pid: reply.pid };
  if (reply?.t === 'error' && typeof reply.message === 'string') return reply as { t: 'error'; message: string; exitCode: number };
  throw new TsboxError(`the monitor of container ${who} closed the start socket without an answer`, { step: 'start', hint: 'See its monitor.log.' });
}

function readLine(conn: Socket): Promise<string | null> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        conn.off('data', onData);
        resolve(buf.slice(0, nl));
      } else if (buf.length > 64 * 1024) {
        conn.destroy();
        resolve(null);
      }
    };
    conn.on('data', onData);
    conn.once('close', () => resolve(null));
    conn.once('error', () => resolve(null));
  });
}

function safeParse(line: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
