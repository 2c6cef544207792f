/**
 * The parent's end of the sync socket with the container's init (see init/protocol.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { TsboxError } from '../errors.js';
import type { ExecPlan } from '../init/exec-protocol.js';
import type { InitMessage, InitPlan, ParentMessage } from '../init/protocol.js';

export interface InitExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The command's exit status as a shell gives it: its own, or 128+N when signal N ended it. */
export function exitStatus(exit: InitExit): number {
  return exit.code ?? 128 + (osConstants.signals[exit.signal!] ?? 0);
}

export class InitConnection {
  readonly exited: Promise<InitExit>;
  private readonly socket: Readable & Writable;
  private readonly messages: InitMessage[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;
  /** Writes go through Node's stream queue (send). */
  private queued = false;

  constructor(readonly child: ChildProcess, private readonly onTrace: (m: Extract<InitMessage, { t: 'trace' }>) => void) {
    this.socket = child.stdio[3] as Readable & Writable;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let pending = '';
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const message = JSON.parse(pending.slice(0, nl)) as InitMessage;
        pending = pending.slice(nl + 1);
        if (message.t === 'trace') this.onTrace(message);
        else this.messages.push(message);
      }
      this.wake();
    });
    const close = () => {
      this.closed = true;
      this.wake();
    };
    this.socket.on('end', close);
    this.socket.on('close', close);
    this.socket.on('error', close);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Wait for the next message; null when the socket closed (exec succeeded, or the init died). */
  async next(): Promise<InitMessage | null> {
    while (this.messages.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return this.messages.shift() ?? null;
  }

  async expectReady(): Promise<void> {
    const m = await this.next();
    if (m?.t !== 'ready') throw await this.unexpected(m, 'start init');
  }

  /**
   * A blocking write on the socket's fd, not the stream's: the init may already have ended
   * (a failed setup step: it wrote its error and exited), and a stream write then fails with
   * EPIPE, on which Node destroys the socket and drops the error still unread in it (the run
   * said "the init exited unexpectedly (status 126)" instead of the init's one line). A write
   * to an ended init is not a failure of its own: what the init said is read as usual, and its
   * exit tells the rest. Once the socket's buffer is full (EAGAIN), Node's queue takes over
   * for good, so that messages keep their order.
   */
  send(plan: InitPlan | ExecPlan | ParentMessage): void {
    const data = Buffer.from(`${JSON.stringify(plan)}\n`);
    const fd = this.queued ? null : socketFd(this.socket);
    if (fd === null) {
      this.socket.write(data);
      return;
    }
    let off = 0;
    try {
      while (off < data.length) off += writeSync(fd, data, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'ECONNRESET') return;
      if (code !== 'EAGAIN') throw err;
      this.queued = true;
      this.socket.write(data.subarray(off));
    }
  }

  /** Resolves once the init has done every setup step and is held before exec (the container is created). */
  async expectCreated(): Promise<void> {
    const m = await this.next();
    if (m?.t !== 'created') throw await this.unexpected(m, 'set up container');
  }

  /** tsbox-runtime with hooks: the init did its mounts and waits before pivot_root for {t:"resume"}. */
  async expectHookPoint(): Promise<void> {
    const m = await this.next();
    if (m?.t !== 'hook-point') throw await this.unexpected(m, 'set up container');
  }

  /** Release the held init: it execs the command (expectExec tells whether it did). */
  start(): void {
    this.send({ t: 'start' });
  }

  /** Resolves once the init has handed over to the user's command; throws the init's error otherwise. */
  async expectExec(): Promise<void> {
    const m = await this.next();
    if (m?.t !== 'exec') throw await this.unexpected(m, 'exec');
    // execve itself (of the command, or of tini with --init) can still fail after this message.
    const after = await this.next();
    if (after !== null) throw await this.unexpected(after, 'exec');
  }

  private async unexpected(m: InitMessage | null, step: string): Promise<TsboxError> {
    if (m?.t === 'error') return new TsboxError(m.message, { step: m.step, hint: m.hint, exitCode: m.exitCode });
    const exit = await this.exited;
    return new TsboxError(`the container's init exited unexpectedly (${exit.signal ?? `status ${exit.code}`})`, { step });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/** The fd under a child's stdio socket (libuv's pipe handle), or null where there is none. */
function socketFd(socket: object): number | null {
  const fd = (socket as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
