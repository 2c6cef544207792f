#!/usr/bin/env node
// Throughput: containers per second for `tsbox run ROOTFS /bin/true` with a warm cache,
// one at a time and with 2 runs in flight, side by side with podman running the same
// busybox tree in the same run. Rounds alternate (tsbox, podman, tsbox, podman...) so
// that drift in machine load hits both; each figure is the median over the rounds.
//
//   sudo node bench/throughput.mjs [--runs 40] [--rounds 3]
//
// podman must be installed; without it only tsbox is measured. Nothing is written to the
// repository: the state root, the rootfs and podman's image are removed at the end.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) || dflt : dflt;
};
const runs = arg('--runs', 40);
const rounds = arg('--rounds', 3);
const tsbox = fileURLToPath(new URL('../bin/tsbox', import.meta.url));
const work = mkdtempSync('/var/tmp/tsbox-bench-');
const root = join(work, 'root');
const rootfs = join(work, 'busybox.tar');
const env = { ...process.env, TSBOX_ROOT: root };
const image = 'localhost/tsbox-bench-throughput';

function runOnce(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr}`))));
  });
}

/** `runs` containers with `concurrency` in flight; returns containers per second. */
async function throughput(tool, concurrency) {
  let next = 0;
  const worker = async () => {
    while (next < runs) {
      next++;
      await runOnce(tool.cmd, tool.args);
    }
  };
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return runs / (Number(process.hrtime.bigint() - t) / 1e9);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  execFileSync(tsbox, ['rootfs', 'from-host', rootfs], { env, stdio: 'ignore' });
  const tools = [{ name: 'tsbox', cmd: tsbox, args: ['run', '--network', 'none', rootfs, '/bin/true'] }];
  // runc: Debian's podman defaults to crun, which refuses hybrid cgroup hosts.
  if (spawnSync('podman', ['--version']).status === 0 && spawnSync('runc', ['--version']).status === 0) {
    execFileSync('podman', ['import', rootfs, image], { stdio: 'ignore' });
    // Same conditions as tsbox: no network; rlimits podman may set without CAP_SYS_RESOURCE.
    tools.push({ name: 'podman', cmd: 'podman', args: ['--runtime', 'runc', 'run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, '/bin/true'] });
  }
  for (const tool of tools) await runOnce(tool.cmd, tool.args); // warm: cache filled, binaries in the page cache

  const results = Object.fromEntries(tools.map((t) => [t.name, { 1: [], 2: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of [1, 2]) {
      for (const tool of tools) results[tool.name][concurrency].push(await throughput(tool, concurrency));
    }
  }

  console.log(`containers per second, /bin/true, warm cache, ${runs} runs per measure, median of ${rounds} rounds (${process.arch}, ${(await import('node:os')).cpus().length} CPUs)`);
  console.log('tool      sequential  2 in flight');
  for (const tool of tools) {
    const r = results[tool.name];
    console.log(`${tool.name.padEnd(9)} ${median(r[1]).toFixed(2).padStart(10)}  ${median(r[2]).toFixed(2).padStart(11)}`);
  }
  if (tools.length === 2) {
    const ratio = (c) => (median(results.tsbox[c]) / median(results.podman[c])).toFixed(2);
    console.log(`tsbox/podman: ${ratio(1)}x sequential, ${ratio(2)}x with 2 in flight`);
  }
} finally {
  spawnSync('podman', ['rmi', '-f', image], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
