/**
 * containerd 1.6 (its runc shim, containerd-shim-runc-v2) running tasks through
 * tsbox-runtime (ctr --runc-binary): exit codes, -d with task exec, task ps, pause/resume,
 * kill, delete, -t. A private daemon: its own config, root, state and sockets under a temp
 * dir. After every flow: no state entry under the shim's --root, no cgroup, no process.
 */
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupsNamed, isolatedPodman, privateContainerd, RUNTIME_BIN, type Containerd } from '../helpers/oci-engines.js';
import { expectEngineTty } from '../helpers/tmux.js';

let dir: string;
let ctd: Containerd;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsbox-oci-ctd-'));
  ctd = await privateContainerd(dir, isolatedPodman(join(dir, 'podman')));
}, 120_000);

afterAll(async () => {
  for (const id of ['ctd-rm', 'ctd-d', 'ctd-t']) {
    ctd?.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    ctd?.ctr(['task', 'delete', '-f', id]);
    ctd?.ctr(['container', 'delete', id]);
  }
  await ctd?.stop();
  // The shim's --root for our namespace (made by the runtime's create): empty by now.
  try {
    rmdirSync(shimRoot());
  } catch {
    // not made, or (a failure above says why) not empty
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const shimRoot = () => `/run/containerd/runc/${ctd.namespace}`;

function stateEntries(): string[] {
  try {
    return readdirSync(shimRoot());
  } catch {
    return [];
  }
}

describe('ctr --runc-binary tsbox-runtime', () => {
  it('run --rm passes the exit status on and leaves nothing', () => {
    const r = ctd.ctr(['run', '--rm', '--runc-binary', RUNTIME_BIN, ctd.image, 'ctd-rm', 'sh', '-c', 'echo hello; exit 5']);
    expect(r.stdout).toBe('hello\n');
    expect(r.code).toBe(5);
    expect(stateEntries()).toEqual([]);
    expect(cgroupsNamed(['ctd-rm'])).toEqual([]);
  });

  it('-d, task exec, task ps, pause/resume, kill, delete', () => {
    expect(ctd.ctr(['run', '-d', '--runc-binary', RUNTIME_BIN, ctd.image, 'ctd-d', 'sleep', '300']).code).toBe(0);
    const e = ctd.ctr(['task', 'exec', '--exec-id', 'e1', 'ctd-d', 'sh', '-c', 'echo in exec; exit 6']);
    expect(e.stdout).toBe('in exec\n');
    expect(e.code).toBe(6);
    const ls = ctd.ctr(['task', 'ls']);
    const pid = /ctd-d\s+(\d+)\s+RUNNING/.exec(ls.stdout)?.[1];
    expect(pid).toBeDefined();
    expect(ctd.ctr(['task', 'ps', 'ctd-d']).stdout).toContain(pid!);
    expect(ctd.ctr(['task', 'pause', 'ctd-d']).code).toBe(0);
    expect(ctd.ctr(['task', 'ls']).stdout).toMatch(/ctd-d\s+\d+\s+PAUSED/);
    // Frozen, as the kernel says: the group (at containerd's cgroupsPath /<namespace>/<id>) is frozen.
    const [group] = cgroupsNamed(['ctd-d']);
    expect(readFileSync(join(group!, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
    expect(ctd.ctr(['task', 'resume', 'ctd-d']).code).toBe(0);
    expect(ctd.ctr(['task', 'ls']).stdout).toMatch(/ctd-d\s+\d+\s+RUNNING/);
    expect(ctd.ctr(['task', 'kill', '-s', 'SIGKILL', 'ctd-d']).code).toBe(0);
    for (let i = 0; i < 500 && !/STOPPED/.test(ctd.ctr(['task', 'ls']).stdout); i++) {
      // polled: the shim reaps the init and reports it
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    expect(ctd.ctr(['task', 'ls']).stdout).toMatch(/ctd-d\s+\d+\s+STOPPED/);
    expect(ctd.ctr(['task', 'delete', 'ctd-d']).code).toBe(0);
    expect(ctd.ctr(['container', 'delete', 'ctd-d']).code).toBe(0);
    expect(stateEntries()).toEqual([]);
    expect(cgroupsNamed(['ctd-d'])).toEqual([]);
  });

  it('run -t through a terminal: the task has a pty (console socket)', async () => {
    const cmd = ['ctr', ...ctd.ctrArgs, 'run', '--rm', '-t', '--runc-binary', RUNTIME_BIN, ctd.image, 'ctd-t', 'sh', '-c', "'tty; echo done-$((6*7))'"];
    await expectEngineTty(cmd.join(' '));
    expect(stateEntries()).toEqual([]);
  });
});
