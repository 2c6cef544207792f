/**
 * The cgroup manager against this machine's real cgroup2 hierarchy. On a hybrid host (the
 * development machine) that hierarchy has no controllers: limits must be refused before
 * anything is created, and a group without limits must still work. Everything happens under
 * a parent group of our own (tsbox-test-<random>), removed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { silentLogger as log } from '../../src/log.js';
import { createContainerCgroup, findCgroup2Mount, gcCgroups, openContainerCgroup, parseCgroupLimits } from '../../src/cgroups/index.js';

const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
const isRoot = process.getuid?.() === 0;
// The README's machine runs the suite as root on a host with cgroup2: anything else fails, naming why.
const missing = !isRoot ? 'the integration tests run as root (see the README)' : mount === null ? 'no cgroup2 hierarchy is mounted on this host' : null;
const controllers = mount ? readFileSync(join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/) : [];

const parent = `tsbox-test-${randomBytes(4).toString('hex')}`;
const parentDir = mount ? join(mount, parent) : '';
const children: ChildProcess[] = [];

function sleeper(): Promise<ChildProcess> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('error', reject);
  });
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (parentDir && existsSync(parentDir)) {
    for (const id of readdirSync(parentDir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      await openContainerCgroup(join(parentDir, id.name), log).destroy();
    }
    rmdirSync(parentDir);
  }
});

describe('cgroups on this host', () => {
  it('has what these tests need', () => {
    expect(missing).toBeNull();
  });

  describe.each([
    ['memory', { memory: '64m' }, '--memory', 'memory.max', '67108864'],
    ['cpu', { cpus: '0.5' }, '--cpus', 'cpu.max', '50000 100000'],
    ['pids', { pidsLimit: '64' }, '--pids-limit', 'pids.max', '64'],
  ] as const)('a limit that needs the %s controller', (controller, flags, flag, file, stored) => {
    // Which of the two holds depends on the host: a hybrid one (this project's development
    // machine) has no controllers in cgroup2; a unified one has them all.
    it(`is applied where cgroup2 offers ${controller}; otherwise refused with one line naming it and ${flag}, before anything is created`, async () => {
      const limits = parseCgroupLimits(flags);
      if (controllers.includes(controller)) {
        const cg = (await createContainerCgroup({ id: `applied-${controller}`, parent, limits, log }))!;
        expect(readFileSync(join(cg.path, file), 'utf8').trim()).toBe(stored);
        await cg.destroy();
        return;
      }
      const err = await createContainerCgroup({ id: 'refused', parent, limits, log }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      const message = (err as Error).message;
      expect(message).toMatch(new RegExp(`^${controller} controller is not available in cgroup v2 on this host \\(it is bound to cgroup v1 at /sys/fs/cgroup/\\S+\\); run without ${flag} or on a host with a unified cgroup hierarchy$`));
      expect(existsSync(parentDir)).toBe(false);
    });
  });

  it('creates a group without limits, takes a process in, and destroy leaves nothing', async () => {
    const cg = await createContainerCgroup({ id: 'plain', parent, limits: {}, log });
    expect(cg).not.toBeNull();
    expect(cg!.path).toBe(join(mount!, parent, 'plain'));
    expect(existsSync(cg!.path)).toBe(true);

    const child = await sleeper();
    cg!.addProcess(child.pid!);
    expect(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toContain(`0::/${parent}/plain\n`);
    expect(readFileSync(cg!.procsFile, 'utf8').trim().split('\n')).toEqual([String(child.pid)]);

    const stats = cg!.readStats();
    expect(stats.cpuUserUs).toBeGreaterThanOrEqual(0);
    expect(cg!.oomKilled()).toBe(false);

    await cg!.destroy();
    expect(await exited(child)).toBe('SIGKILL');
    expect(existsSync(cg!.path)).toBe(false);
    expect(readdirSync(parentDir, { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([]);
    await cg!.destroy(); // idempotent
  });

  it('lets a process join by writing 0 to procsFile itself, as the container init does', async () => {
    const cg = (await createContainerCgroup({ id: 'self-join', parent, limits: {}, log }))!;
    const child = spawn('sh', ['-c', 'echo 0 > "$1" && cat /proc/self/cgroup', 'sh', cg.procsFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    expect(await exited(child)).toBe(0);
    expect(out).toContain(`0::/${parent}/self-join\n`);
    await cg.destroy();
    expect(existsSync(cg.path)).toBe(false);
  });

  it('gc removes the groups of dead runs, killing what is left in them', async () => {
    const dead = (await createContainerCgroup({ id: 'dead', parent, limits: {}, log }))!;
    const alive = (await createContainerCgroup({ id: 'alive', parent, limits: {}, log }))!;
    const orphan = await sleeper();
    dead.addProcess(orphan.pid!);
    const removed = await gcCgroups({ parent, isAlive: (id) => id === 'alive', log });
    expect(removed).toEqual(['dead']);
    expect(await exited(orphan)).toBe('SIGKILL');
    expect(existsSync(dead.path)).toBe(false);
    expect(existsSync(alive.path)).toBe(true);
    await alive.destroy();
  });
});
