/**
 * The start socket of a created container (<state dir>/containers/<id>/start.sock): how
 * `tsbox start` tells the monitor that holds the container to release its init, and hears
 * back whether the command runs. One line each way, JSON:
 *
 *   start  -> monitor  {"t":"start","attach":bool}
 *   monitor -> start   {"t":"started","pid":N}  or  {"t":"error",message,step,hint,exitCode}
 *
 * `tsbox start -a` (attach) keeps the connection open after "started": when the command
 * exits the monitor sends {"t":"exited","exitCode":N} and waits until the starter hangs up
 * (it has read the rest of the output by then) before it goes on, so a --rm container is not
 * removed, with its log and exit status, under the feet of the one who waits for it.
 *
 * The socket lives in the record's directory (mode 0700, root's): only root can start a
 * container, as only root can create one. It is removed with the record.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { TsboxError } from '../errors.js';

export interface StartRequest {
  /** `tsbox start -a`: the starter follows the container to its end. */
  readonly attach: boolean;
  /** Answer the `tsbox start` that asked; the connection stays open after "started" when it attaches. */
  reply(message: object): Promise<void>;
  /** Attached: tell the starter how the command ended, and wait (at most ENDED_WAIT_MS) until it hangs up. */
  ended(exitCode: number): Promise<void>;
}

/** How long the monitor waits for an attached starter to read the output's tail and hang up. */
const ENDED_WAIT_MS = 30_000;

/** The monitor's side: `ready` once listening; `request` once a `tsbox start` asked. */
export function listenForStart(path: string): { ready: Promise<void>; request: Promise<StartRequest> } {
  rmSync(path, { force: true }); // a socket left by a previous life of this container (restart)
  let resolveRequest!: (r: StartRequest) => void;
  const request = new Promise<StartRequest>((resolve) => (resolveRequest = resolve));
  const server = createServer((conn) => {
    lineReader(conn)().then((line) => {
      const request = line === null ? null : safeParse(line);
      if (request?.t !== 'start') return void conn.destroy();
      server.close(); // one start per creation
      const attach = request.attach === true;
      const hungUp = new Promise<void>((resolve) => conn.once('close', () => resolve()));
      resolveRequest({
        attach,
        reply: (message) =>
          new Promise<void>((resolve) => {
            const text = `${JSON.stringify(message)}\n`;
            if (attach && (message as { t?: unknown }).t === 'started') conn.write(text, () => resolve());
            else conn.end(text, () => resolve());
          }),
        ended: async (exitCode) => {
          if (!attach || conn.destroyed) return;
          conn.end(`${JSON.stringify({ t: 'exited', exitCode })}\n`);
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([hungUp, new Promise<void>((resolve) => (timer = setTimeout(resolve, ENDED_WAIT_MS)))]);
          clearTimeout(timer);
          conn.destroy();
        },
      });
    }, () => conn.destroy());
  });
  const ready = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return { ready, request };
}

export type StartReply = { t: 'started'; pid: number } | { t: 'error'; message: string; step?: string; hint?: string; exitCode: number };

/** An attached start (`tsbox start -a`): how the command ended, then hang up. */
export interface Attachment {
  /** The command's exit status; null when the monitor went away without saying (read the record then). */
  readonly exited: Promise<number | null>;
  /** Let the monitor go on (remove a --rm container): call once the output's tail is read. */
  hangUp(): void;
}

/** `tsbox start`'s side: ask, and return the monitor's answer (and, attached, the way to its end). */
export async function requestStart(path: string, who: string, attach = false): Promise<StartReply & { attachment?: Attachment }> {
  const conn = createConnection(path);
  await new Promise<void>((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', (e) => reject(new TsboxError(`cannot reach the monitor of container ${who}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { step: 'start', hint: 'It may have been started or removed meanwhile; see tsbox ps -a.' })));
  });
  const readLine = lineReader(conn);
  conn.write(`${JSON.stringify({ t: 'start', attach })}\n`);
  const line = await readLine();
  const reply = line === null ? null : safeParse(line);
  if (reply?.t === 'started' && typeof reply.pid === 'number') {
    if (!attach) {
      conn.destroy();
      return { t: 'started', pid: reply.pid };
    }
    const exited = readLine().then((l) => {
      const m = l === null ? null : safeParse(l);
      return m?.t === 'exited' && typeof m.exitCode === 'number' ? m.exitCode : null;
    });
    return { t: 'started', pid: reply.pid, attachment: { exited, hangUp: () => conn.destroy() } };
  }
  conn.destroy();
  if (reply?.t === 'error' && typeof reply.message === 'string') return reply as { t: 'error'; message: string; exitCode: number };
  throw new TsboxError(`the monitor of container ${who} closed the start socket without an answer`, { step: 'start', hint: 'See its monitor.log.' });
}

/**
 * The lines a connection carries, one at a time: what arrived after a line stays for the
 * next read ("started" and "exited" can come in one chunk). null at the end, or when a line
 * grows past 64 KiB (not this protocol).
 */
function lineReader(conn: Socket): () => Promise<string | null> {
  let buf = '';
  let ended = false;
  let waiting: (() => void) | null = null;
  const wake = () => {
    const w = waiting;
    waiting = null;
    w?.();
  };
  conn.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    if (buf.length > 64 * 1024 && !buf.includes('\n')) {
      ended = true;
      conn.destroy();
    }
    wake();
  });
  conn.on('error', () => undefined); // an error ends in 'close': the end of the lines, or a hang-up
  conn.once('close', () => {
    ended = true;
    wake();
  });
  return async () => {
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return line;
      }
      if (ended) return null;
      await new Promise<void>((resolve) => (waiting = resolve));
    }
  };
}

function safeParse(line: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
