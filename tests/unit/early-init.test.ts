import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EarlyInitSlot, wantsEarlyInit } from '../../src/namespaces/early-init.js';

describe('wantsEarlyInit', () => {
  it('spawns early for a foreground run, guessing stdio from the terminal', () => {
    expect(wantsEarlyInit(['run', 'r.tar', 'true'], false)).toEqual(['inherit', 'inherit', 'inherit']);
    expect(wantsEarlyInit(['run', 'r.tar', 'sh'], true)).toEqual(['ignore', 'ignore', 'ignore']);
    expect(wantsEarlyInit(['run', '--no-tty', 'r.tar', 'sh'], true)).toEqual(['inherit', 'inherit', 'inherit']);
  });

  it('does not for other commands, -d, --help or --debug', () => {
    expect(wantsEarlyInit(['ps'], false)).toBeNull();
    expect(wantsEarlyInit([], false)).toBeNull();
    for (const flag of ['-d', '--detach', '-dit', '-itd', '--debug', '--help', '-h']) {
      expect(wantsEarlyInit(['run', flag, 'r.tar'], false), flag).toBeNull();
    }
  });
});

class FakeChild extends EventEmitter {
  exitCode: number | null = null;
  signalCode: string | null = null;
  killed: string[] = [];
  kill(signal: string): boolean {
    this.killed.push(signal);
    setImmediate(() => {
      this.signalCode = signal;
      this.emit('exit', null, signal);
    });
    return true;
  }
}

const asChild = (f: FakeChild) => f as unknown as ChildProcess;

describe('EarlyInitSlot', () => {
  it('hands over a live init with the same stdio, once', () => {
    const slot = new EarlyInitSlot();
    const child = new FakeChild();
    slot.put(asChild(child), ['inherit', 'inherit', 'inherit']);
    expect(slot.take(['inherit', 'inherit', 'inherit'])).toBe(child);
    expect(slot.take(['inherit', 'inherit', 'inherit'])).toBeNull();
    expect(child.killed).toEqual([]);
  });

  it('kills an init with other stdio instead of handing it over', () => {
    const slot = new EarlyInitSlot();
    const child = new FakeChild();
    slot.put(asChild(child), ['inherit', 'inherit', 'inherit']);
    expect(slot.take(['ignore', 'ignore', 'ignore'])).toBeNull();
    expect(child.killed).toEqual(['SIGKILL']);
  });

  it('does not hand over an init that already died', () => {
    const slot = new EarlyInitSlot();
    const child = new FakeChild();
    child.exitCode = 1;
    slot.put(asChild(child), ['inherit', 'inherit', 'inherit']);
    expect(slot.take(['inherit', 'inherit', 'inherit'])).toBeNull();
    expect(child.killed).toEqual([]);
  });

  it('discard kills an untaken init and waits for its exit', async () => {
    const slot = new EarlyInitSlot();
    const child = new FakeChild();
    slot.put(asChild(child), ['inherit', 'inherit', 'inherit']);
    await slot.discard();
    expect(child.killed).toEqual(['SIGKILL']);
    expect(child.signalCode).toBe('SIGKILL');
    await slot.discard(); // nothing held: no-op
  });
});
