/**
 * Teardown, always: after success, an error at any step, Ctrl-C, or SIGKILL of tsbox
 * itself, no container directory or cgroup remains (mounts cannot: they live only in the
 * container's own mount namespace, and the suite's leak check proves it).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { rootfsTar, testRoot, tsbox } from '../helpers/tsbox.js';

const containersDir = () => join(testRoot(), 'containers');
const containersLeft = () => (existsSync(containersDir()) ? readdirSync(containersDir()) : []);
const cgroupParent = '/sys/fs/cgroup/unified/tsbox';
const cgroupsLeft = () => (existsSync(cgroupParent) ? readdirSync(cgroupParent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : []);

/** Resolves once the container's command (not the init) is running, with its host pid. */
function whenCommandRuns(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      try {
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
        if (!kids) return;
        const pid = Number(kids.split(' ')[0]);
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmdline.startsWith('sleep') || cmdline.startsWith('/bin/sh')) {
          clearInterval(timer);
          resolve(pid);
        }
      } catch {
        // not there yet
      }
    }, 10);
  });
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

describe('teardown', () => {
  it('leaves nothing after a successful run', async () => {
    const r = await tsbox(['run', rootfsTar(), 'true']);
    expect(r.code).toBe(0);
    expect(containersLeft()).toEqual([]);
    expect(cgroupsLeft()).toEqual([]);
  });

  it('leaves nothing when a step inside the container fails', async () => {
    const r = await tsbox(['run', '-u', 'ghost', '-v', '/tmp:/mnt', '--tmpfs', '/scratch', rootfsTar(), 'true']);
    expect(r.code).toBe(125);
    expect(containersLeft()).toEqual([]);
    expect(cgroupsLeft()).toEqual([]);
  });

  it('kills the container when tsbox is killed with SIGKILL, and the next command reclaims the rest', async () => {
    let commandPid = 0;
    const r = await tsbox(['run', rootfsTar(), 'sleep', '300'], {
      onSpawn: (child) => {
        void whenCommandRuns(child).then((pid) => {
          commandPid = pid;
          child.kill('SIGKILL');
        });
      },
    });
    expect(r.signal).toBe('SIGKILL');
    expect(commandPid).toBeGreaterThan(0);
    // PDEATHSIG takes the container's PID 1 down with tsbox, and the PID namespace with it.
    for (const deadline = Date.now() + 10_000; alive(commandPid) && Date.now() < deadline; ) await new Promise((res) => setTimeout(res, 20));
    expect(alive(commandPid)).toBe(false);
    // What a SIGKILLed process cannot clean up, the next tsbox command does.
    expect(containersLeft()).toHaveLength(1);
    const gc = await tsbox(['gc']);
    expect(gc.stdout).toMatch(/reclaimed 1 container/);
    expect(containersLeft()).toEqual([]);
    expect(cgroupsLeft()).toEqual([]);
  });

  it('reclaims a killed run at the start of any other run', async () => {
    await tsbox(['run', rootfsTar(), 'sleep', '300'], {
      onSpawn: (child) => void whenCommandRuns(child).then(() => child.kill('SIGKILL')),
    });
    expect(containersLeft()).toHaveLength(1);
    const next = await tsbox(['run', rootfsTar(), 'true']);
    expect(next.code).toBe(0);
    expect(containersLeft()).toEqual([]);
    expect(cgroupsLeft()).toEqual([]);
  });

  it('on Ctrl-C while the command runs: forwards SIGINT, and cleans up after it exits', async () => {
    const r = await tsbox(['run', rootfsTar(), '/bin/sh', '-c', 'trap "exit 130" INT; while :; do sleep 0.05; done'], {
      onSpawn: (child) => void whenCommandRuns(child).then(() => setTimeout(() => child.kill('SIGINT'), 100)),
    });
    expect(r.code).toBe(130);
    expect(containersLeft()).toEqual([]);
    expect(cgroupsLeft()).toEqual([]);
  });

  it('on Ctrl-C during setup: stops, unwinds, exits 130', async () => {
    const r = await tsbox(['run', rootfsTar(), 'sleep', '300'], {
      onSpawn: (child) => {
        // As soon as the run's live directory exists (its overlay layer, runtime/paths.ts), setup is under way.
        const timer = setInterval(() => {
          if (containersLeft().some((n) => existsSync(join(containersDir(), n, 'live')))) {
            clearInterval(timer);
            child.kill('SIGINT');
          }
        }, 2);
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGINT/);
    expect(containersLeft()).toEqual([]);
    expect(cgroupsLeft()).toEqual([]);
  });
});
