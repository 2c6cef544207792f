/**
 * The init's end of the sync socket: blocking reads and writes, because the init is a
 * straight-line program with nothing else to do while it waits for the parent.
 */
import { readSync, writeSync } from 'node:fs';
import type { ExecPlan } from './exec-protocol.js';
import { execPlanSchema, initPlanSchema, parentMessageSchema, parsePlanLine } from './plan-schema.js';
import type { InitMessage, InitPlan, ParentMessage } from './protocol.js';

export class InitChannel {
  private buffered = '';

  constructor(private fd: number) {}

  /**
   * Talk through `fd` from now on (a copy of the socket, made by the caller): the old number
   * is about to be reused (init/preserved-fds.ts).
   */
  moveTo(fd: number): void {
    this.fd = fd;
  }

  send(message: InitMessage): void {
    const data = Buffer.from(`${JSON.stringify(message)}\n`);
    for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off);
  }

  /** Read the plan (one line), validated. EOF first means the parent died: the init has nothing to do. */
  readPlan(): InitPlan {
    return parsePlanLine(initPlanSchema, this.readLine(), 'plan');
  }

  /** The exec-init's plan, validated. */
  readExecPlan(): ExecPlan {
    return parsePlanLine(execPlanSchema, this.readLine(), 'exec plan');
  }

  /** A message after the plan (the pty, with -t), validated. */
  readMessage(): ParentMessage {
    return parsePlanLine(parentMessageSchema, this.readLine(), 'message');
  }

  private readLine(): string {
    const chunk = Buffer.alloc(64 * 1024);
    while (!this.buffered.includes('\n')) {
      let n: number;
      try {
        n = readSync(this.fd, chunk, 0, chunk.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        throw err;
      }
      if (n === 0) process.exit(1); // the parent is gone before sending the plan
      this.buffered += chunk.toString('utf8', 0, n);
    }
    const nl = this.buffered.indexOf('\n');
    const line = this.buffered.slice(0, nl);
    this.buffered = this.buffered.slice(nl + 1);
    return line;
  }
}
