/**
 * Runs inside the VM (bundled to $TSBOX_VM_INPUT/cgroups-probe.mjs): drives the cgroup
 * manager against a real cgroup2 with every controller and records what the kernel did,
 * as JSON lines (see lib.sh). It observes; tests/integration/cgroups-vm.test.ts judges.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContainerCgroup, parseCgroupLimits, planCgroupFiles, type ContainerCgroup } from '../../src/cgroups/index.js';
import { silentLogger as log } from '../../src/log.js';

const resultsFile = join(process.env.TSBOX_VM_RESULTS ?? '/tmp', 'results.jsonl');
const record = (name: string, data: unknown) => appendFileSync(resultsFile, JSON.stringify({ case: 'cgroups', name, data }) + '\n');
const readTrim = (path: string) => readFileSync(path, 'utf8').trim();
const PARENT = 'tsbox';
const parentDir = join('/sys/fs/cgroup', PARENT);

/** Run `script` with sh in the group: the shell joins first, as the container init does. */
function runIn(cg: ContainerCgroup, script: string) {
  const started = Date.now();
  const child = spawn('sh', ['-c', `echo 0 > "$1" && ${script}`, 'sh', cg.procsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; ms: number; output: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started, output: output.slice(-400) })),
  );
  return { child, exited };
}

async function step(name: string, fn: () => Promise<unknown> | unknown): Promise<void> {
  try {
    record(name, await fn());
  } catch (err) {
    record(name, { error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const flags = { memory: '64m', memorySwap: '96m', memoryReservation: '16m', cpus: '0.5', cpuShares: '512', cpusetCpus: '0', pidsLimit: '64' };
  const limits = parseCgroupLimits(flags);
  const cg = await createContainerCgroup({ id: 'probe', parent: PARENT, limits, log });
  if (!cg) throw new Error('createContainerCgroup returned null in the VM');

  await step('files', () => ({
    path: cg.path,
    plan: planCgroupFiles(limits).map((w) => w.file),
    values: Object.fromEntries(planCgroupFiles(limits).map((w) => [w.file, readTrim(join(cg.path, w.file))])),
    rootSubtreeControl: readTrim('/sys/fs/cgroup/cgroup.subtree_control'),
    parentSubtreeControl: readTrim(join(parentDir, 'cgroup.subtree_control')),
    parentProcs: readTrim(join(parentDir, 'cgroup.procs')),
  }));

  await step('oom', async () => {
    // A 200 MiB buffer, filled by read(): far above memory.max 64m + 32m of swap (and the VM has no swap).
    const { exited } = runIn(cg, 'exec dd if=/dev/zero of=/dev/null bs=200M count=1');
    const exit = await exited;
    return { exit, oomKilled: cg.oomKilled(), events: readTrim(join(cg.path, 'memory.events')), stats: cg.readStats() };
  });

  await step('cpu', async () => {
    const before = readTrim(join(cg.path, 'cpu.stat'));
    const { exited } = runIn(cg, 'exec node -e "const end = Date.now() + 3000; while (Date.now() < end) {}"');
    const exit = await exited;
    return { exit, before, after: readTrim(join(cg.path, 'cpu.stat')), stats: cg.readStats() };
  });

  const device = process.env.VM_BLOCK_DEVICE;
  if (device) {
    await step('io', async () => {
      const ioLimits = parseCgroupLimits({ deviceWriteBps: [`${device}:1mb`] });
      const io = await createContainerCgroup({ id: 'probe-io', parent: PARENT, limits: ioLimits, log });
      if (!io) throw new Error('no group');
      try {
        const ioMax = readTrim(join(io.path, 'io.max'));
        // 3 MiB with O_DIRECT (the page cache would hide the throttle) at 1 MiB/s.
        const { exited } = runIn(io, `exec dd if=/dev/zero of=${device} bs=64k count=48 oflag=direct`);
        const exit = await exited;
        return { limits: ioLimits, ioMax, exit, stats: io.readStats() };
      } finally {
        await io.destroy();
      }
    });
  }

  await step('pids', async () => {
    // More children than pids.max allows. The shell may give up when a fork fails; its
    // children stay in the group (reparented), which is what destroy must then clean up.
    const { child, exited } = runIn(cg, 'i=0; while [ $i -lt 100 ]; do sleep 60 & i=$((i + 1)); done; wait');
    let shellExited = false;
    void exited.then(() => (shellExited = true));
    const refusedForks = () => Number(/^max (\d+)$/m.exec(readTrim(join(cg.path, 'pids.events')))?.[1] ?? 0);
    const before = refusedForks();
    // Polled until the limit bites: under software emulation on a loaded host, 65 forks can
    // take far longer than on metal (the deadline only guards against a hang).
    for (const deadline = Date.now() + 120_000; refusedForks() === before && !shellExited && Date.now() < deadline; ) await sleep(50);
    const seen = { refusedForks: refusedForks() - before, current: Number(readTrim(join(cg.path, 'pids.current'))), procs: readTrim(cg.procsFile).split('\n').length };
    // Destroy with a group full of processes: everything must die and the group go.
    const started = Date.now();
    await cg.destroy();
    const destroyMs = Date.now() - started;
    const exit = await exited;
    return { ...seen, shellPid: child.pid, exit, destroyMs };
  });

  await step('after-destroy', async () => {
    await cg.destroy(); // idempotent
    return { parentChildren: readdirSync(parentDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) };
  });
}

main().catch((err: unknown) => {
  record('fatal', { error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  process.exitCode = 1;
});
