import { closeSync, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import tty from 'node:tty';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { drainAfterExit, pendingOn, type OutputCopy } from '../../src/runtime/output-drain.js';
import { pipe } from '../../src/sys/fd.js';
import { openPtyMaster, unlockPty } from '../../src/sys/tty.js';

/** Keep the event loop from running, as a tsbox that is not scheduled on a loaded machine. */
function starve(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

/** Collect what `stream` reads; `done` when it ends. */
function collect(stream: Readable): { done: Promise<void>; text: () => string } {
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', resolve);
    stream.on('error', () => resolve());
    stream.on('close', resolve);
  });
  return { done, text: () => Buffer.concat(chunks).toString() };
}

describe('draining the output after the command exited', () => {
  afterEach(() => vi.useRealTimers());

  it('a loop starved past the drain time still copies what waited in a pipe (a writer left behind keeps it open)', async () => {
    const [r, w] = pipe();
    const source = new Socket({ fd: r, readable: true, writable: false });
    try {
      const copy = collect(source);
      writeSync(w, 'last line\n');
      const drained = drainAfterExit({ done: copy.done, pending: pendingOn(source, r) }, 50);
      starve(200); // the drain timer is expired before the loop polls the pipe once
      await drained;
      expect(copy.text()).toBe('last line\n');
    } finally {
      closeSync(w);
      source.destroy();
    }
  });

  it('a loop starved past the drain time still shows the last output of a pty whose slave closed', async () => {
    const master = openPtyMaster('/dev/ptmx');
    const slave = openSync(`/dev/pts/${unlockPty(master)}`, 'r+');
    const stream = new tty.ReadStream(master);
    try {
      const copy = collect(stream);
      writeSync(slave, 'exit 7\n');
      closeSync(slave); // the shell exited: what it wrote last may still be in the pty's flip buffer
      const drained = drainAfterExit({ done: copy.done, pending: pendingOn(stream, master) }, 50);
      starve(200);
      await drained;
      expect(copy.text()).toBe('exit 7\r\n'); // ONLCR
    } finally {
      stream.destroy();
    }
  });

  it('ends with the copy when the source hangs up, without waiting for the time', async () => {
    const copy: OutputCopy = { done: Promise.resolve(), pending: () => true };
    const started = Date.now();
    await drainAfterExit(copy, 10_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('ends after the drain time once nothing is pending', async () => {
    vi.useFakeTimers();
    let ended = false;
    const drained = drainAfterExit({ done: new Promise(() => {}), pending: () => false }, 500).then(() => (ended = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(ended).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await drained;
    expect(ended).toBe(true);
  });

  it('output that keeps coming (a process left behind writing) is cut off 5 s after the drain time', async () => {
    vi.useFakeTimers();
    let ended = false;
    let checks = 0;
    const drained = drainAfterExit({ done: new Promise(() => {}), pending: () => (checks++, true) }, 500).then(() => (ended = true));
    await vi.advanceTimersByTimeAsync(5000);
    expect(ended).toBe(false);
    expect(checks).toBeGreaterThan(100);
    await vi.advanceTimersByTimeAsync(600);
    await drained;
    expect(ended).toBe(true);
  });
});
