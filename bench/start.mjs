#!/usr/bin/env node
// Warm start of a container: `tsbox run ROOTFS /bin/true` with the rootfs already in the
// cache, side by side with podman running the same busybox tree in the same run.
// Runs alternate (tsbox, peer, tsbox, peer...) so that drift in machine load hits both.
//
//   sudo node bench/start.mjs [--runs 30] [--network none|default]
//
// --network none (the default here): both without a network, like for like. --network default:
// each with its own default (tsbox: its bridge; podman: its bridge), the literal `tsbox run r.tar /bin/true`.
//
// podman and runc must be installed (apt-get install podman runc); without them only tsbox is measured.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 30;
const network = process.argv.includes('--network') ? process.argv[process.argv.indexOf('--network') + 1] : 'none';
if (network !== 'none' && network !== 'default') throw new Error('--network none|default');
const netArgs = network === 'none' ? ['--network', 'none'] : [];
const tsbox = fileURLToPath(new URL('../bin/tsbox', import.meta.url));
const work = mkdtempSync('/var/tmp/tsbox-bench-');
const root = join(work, 'root');
const rootfs = join(work, 'busybox.tar');
const env = { ...process.env, TSBOX_ROOT: root };

function time(cmd, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { median, mean, min: s[0], max: s[s.length - 1] };
}

const fmt = (x) => `${x.toFixed(1)} ms`;

try {
  execFileSync(tsbox, ['rootfs', 'from-host', rootfs], { env, stdio: 'ignore' });
  // --network none: the same conditions as podman's below (bench/network-start.mjs measures the bridge).
  const tsboxArgs = ['run', ...netArgs, rootfs, '/bin/true'];
  time(tsbox, tsboxArgs); // fills the cache: the benchmark measures warm starts

  let peer = null;
  const image = 'localhost/tsbox-bench-busybox';
  // runc: Debian's podman defaults to crun, which refuses hybrid cgroup hosts.
  if (spawnSync('podman', ['--version']).status === 0 && spawnSync('runc', ['--version']).status === 0) {
    execFileSync('podman', ['import', rootfs, image], { stdio: 'ignore' });
    // Same conditions as tsbox: no network; rlimits podman may set without CAP_SYS_RESOURCE.
    peer = { name: 'podman', cmd: 'podman', args: ['--runtime', 'runc', 'run', '--rm', ...netArgs, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, '/bin/true'] };
    time(peer.cmd, peer.args);
  }

  const samples = { tsbox: [], peer: [] };
  for (let i = 0; i < runs; i++) {
    samples.tsbox.push(time(tsbox, tsboxArgs));
    if (peer) samples.peer.push(time(peer.cmd, peer.args));
  }
  const t = summary(samples.tsbox);
  console.log(`network: ${network}`);
  console.log(`tsbox run (warm):   median ${fmt(t.median)}, mean ${fmt(t.mean)}, min ${fmt(t.min)}, max ${fmt(t.max)} over ${runs} runs`);
  if (peer) {
    const p = summary(samples.peer);
    console.log(`${peer.name} run --rm: median ${fmt(p.median)}, mean ${fmt(p.mean)}, min ${fmt(p.min)}, max ${fmt(p.max)} over ${runs} runs`);
    console.log(`ratio tsbox/${peer.name} (median): ${(t.median / p.median).toFixed(2)}x (target <= 0.80x)`);
    spawnSync('podman', ['rmi', '-f', image], { stdio: 'ignore' });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
