import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EarlyInitSlot, wantsEarlyInit } from '../../src/namespaces/early-init.js';

const stdioOf = (w: ReturnType<typeof wantsEarlyInit>) => w?.stdio ?? null;

describe('wantsEarlyInit', () => {
  it('spawns early for a foreground run, guessing stdio from the terminal', () => {
    expect(stdioOf(wantsEarlyInit(['run', 'r.tar', 'true'], false))).toEqual(['inherit', 'inherit', 'inherit']);
    expect(stdioOf(wantsEarlyInit(['run', 'r.tar', 'sh'], true))).toEqual(['ignore', 'ignore', 'ignore']);
  });

  it('does not when a terminal would be relayed through pipes (no pty, but a terminal among stdio)', () => {
    expect(wantsEarlyInit(['run', '--no-tty', 'r.tar', 'sh'], true)).toBeNull();
    expect(wantsEarlyInit(['run', 'r.tar', 'true'], false, true)).toBeNull();
    expect(stdioOf(wantsEarlyInit(['run', 'r.tar', 'sh'], true, true))).toEqual(['ignore', 'ignore', 'ignore']);
  });

  it('does not with --network host or container:NAME: the early init is born in a new net namespace', () => {
    expect(wantsEarlyInit(['run', '--network', 'host', 'r.tar', 'true'], false)).toBeNull();
    expect(wantsEarlyInit(['run', '--network=container:db', 'r.tar', 'true'], false)).toBeNull();
    expect(stdioOf(wantsEarlyInit(['run', '--network', 'bridge', 'r.tar', 'true'], false))).toEqual(['inherit', 'inherit', 'inherit']);
  });

  it('does not for other commands, -d or --help', () => {
    expect(wantsEarlyInit(['ps'], false)).toBeNull();
    expect(wantsEarlyInit([], false)).toBeNull();
    expect(stdioOf(wantsEarlyInit(['run', '--debug', 'r.tar'], false))).toEqual(['inherit', 'inherit', 'inherit']);
    // --debug and --explain: the early init keeps the calls that made its namespaces.
    expect(wantsEarlyInit(['run', '--debug', 'r.tar'], false)?.traced).toBe(true);
    expect(wantsEarlyInit(['run', '--explain=json', 'r.tar'], false)?.traced).toBe(true);
    expect(wantsEarlyInit(['run', 'r.tar', 'x', '--debug'], false)?.traced).toBe(false);
    for (const flag of ['-d', '--detach', '-dit', '-itd', '--help', '-h']) {
      expect(wantsEarlyInit(['run', flag, 'r.tar'], false), flag).toBeNull();
    }
  });

  it('reads --cgroup-parent with run\'s option rules', () => {
    expect(wantsEarlyInit(['run', 'r.tar'], false)?.cgroupParent).toBeUndefined();
    expect(wantsEarlyInit(['run', '--cgroup-parent', 'ci/job', 'r.tar'], false)?.cgroupParent).toBe('ci/job');
    expect(wantsEarlyInit(['run', '--cgroup-parent=ci', '-e', 'X=1', 'r.tar'], false)?.cgroupParent).toBe('ci');
    // A value that looks like a flag is a value; what follows ROOTFS belongs to the container's command.
    expect(wantsEarlyInit(['run', '-e', '--cgroup-parent', 'r.tar', 'sh'], false)?.cgroupParent).toBeUndefined();
    expect(wantsEarlyInit(['run', 'r.tar', 'ls', '--cgroup-parent', 'x'], false)?.cgroupParent).toBeUndefined();
    expect(wantsEarlyInit(['run', 'r.tar', 'ls', '-d'], false)).not.toBeNull();
    expect(wantsEarlyInit(['run', '--name', '-d', 'r.tar'], false)).not.toBeNull();
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

const INHERITED = ['inherit', 'inherit', 'inherit'] as ['inherit', 'inherit', 'inherit'];
const GROUP = { path: '/sys/fs/cgroup/tsbox/abc', joined: Promise.resolve(true) };

function slotWith(child: FakeChild) {
  const removed: string[] = [];
  const slot = new EarlyInitSlot((g) => removed.push(g.path));
  slot.put({ child: asChild(child), stdio: INHERITED, id: 'a'.repeat(64), group: GROUP, calls: [] });
  return { slot, removed };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('EarlyInitSlot', () => {
  it('hands over a live init with the same stdio, and its group, once', () => {
    const child = new FakeChild();
    const { slot, removed } = slotWith(child);
    expect(slot.id).toBe('a'.repeat(64));
    expect(slot.take(INHERITED)).toEqual({ init: child, group: GROUP, calls: [] });
    expect(slot.take(INHERITED)).toBeNull();
    expect(slot.id).toBeUndefined();
    expect(child.killed).toEqual([]);
    expect(removed).toEqual([]); // the run owns the group now
  });

  it('kills an init with other stdio instead of handing it over; the run still gets the group', async () => {
    const child = new FakeChild();
    const { slot, removed } = slotWith(child);
    expect(slot.take(['ignore', 'ignore', 'ignore'])).toEqual({ init: null, group: GROUP, calls: [] });
    expect(child.killed).toEqual(['SIGKILL']);
    await tick();
    expect(removed).toEqual([]); // the run adopts or removes it
  });

  it('does not hand over an init that already died', () => {
    const child = new FakeChild();
    child.exitCode = 1;
    const { slot } = slotWith(child);
    expect(slot.take(INHERITED)).toEqual({ init: null, group: GROUP, calls: [] });
    expect(child.killed).toEqual([]);
  });

  it('discard kills an untaken init, waits for its exit, then removes its group', async () => {
    const child = new FakeChild();
    const { slot, removed } = slotWith(child);
    await slot.discard();
    expect(child.killed).toEqual(['SIGKILL']);
    expect(child.signalCode).toBe('SIGKILL');
    expect(removed).toEqual(['/sys/fs/cgroup/tsbox/abc']);
    await slot.discard(); // nothing held: no-op
    expect(removed).toHaveLength(1);
  });
});
