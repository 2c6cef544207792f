/**
 * The parent's end of the sync socket with the container's init (see init/protocol.ts).
 */
import type { ChildProcess } from 'node:child_process';
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

  send(plan: InitPlan | ExecPlan | ParentMessage): void {
    this.socket.write(`${JSON.stringify(plan)}\n`);
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
