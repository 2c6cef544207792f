#!/usr/bin/env node
// What the default network (bridge) adds to a container's start and teardown, end to end:
// `tsbox run ROOTFS /bin/true` with --network none, with --network bridge (the default
// network's bridge stays up between containers, as docker0 does), and podman's bridge start
// on the same tree in the same run (`podman --runtime runc run --rm --network bridge`, its
// storage in a temporary directory). Runs alternate so drift in machine load hits every case.
// A last phase measures the first bridge container after `tsbox network prune` (the bridge
// and nft table made by that run).
//
//   sudo node bench/network-start.mjs [--runs 30] [--compare DIR] [--no-podman]
//
// --compare DIR: also the same two cases with another built checkout's bin/tsbox (e.g. main's,
// in a second worktree), in the same interleaved runs: an A/B of a change on a busy machine.
// --no-podman: tsbox only (faster).
//
// podman and runc are optional (without them only tsbox is measured). The bridge is taken
// down at the end if it was not up before.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { numberArg, TSBOX, workspace } from './common.mjs';

const runs = numberArg('--runs', 30);
const tsbox = TSBOX;
const { work, rootfs, env, store, podmanBase } = workspace();
const image = 'localhost/tsbox-bench-network';

/** CPU time (user + system, ms) of this process's reaped children so far: /proc/self/stat cutime + cstime. */
function childCpuMs() {
  const f = readFileSync('/proc/self/stat', 'utf8').slice(readFileSync('/proc/self/stat', 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10; // fields 16 and 17, in clock ticks of 10 ms
}
/** CPU per case, summed: on a loaded machine wall-clock medians move by tens of ms, CPU much less. */
const cpu = {};

function time(cmd, args, name) {
  const c = childCpuMs();
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  if (name) (cpu[name] ??= []).push(childCpuMs() - c);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bridgeUp = () => spawnSync('ip', ['link', 'show', 'tsbox0'], { stdio: 'ignore' }).status === 0;

const cases = {
  'tsbox --network none': [tsbox, ['run', '--network', 'none', rootfs, '/bin/true']],
  'tsbox --network bridge': [tsbox, ['run', '--network', 'bridge', rootfs, '/bin/true']],
};
const compare = process.argv.includes('--compare') ? process.argv[process.argv.indexOf('--compare') + 1] : null;
if (compare) {
  const other = join(compare, 'bin', 'tsbox');
  cases['compared --network none'] = [other, ['run', '--network', 'none', rootfs, '/bin/true']];
  cases['compared --network bridge'] = [other, ['run', '--network', 'bridge', rootfs, '/bin/true']];
}
const hadBridge = bridgeUp();
let podman = false;
try {
  execFileSync(tsbox, ['rootfs', 'from-host', rootfs], { env, stdio: 'ignore' });
  // runc: Debian's podman defaults to crun, which refuses hybrid cgroup hosts.
  if (!process.argv.includes('--no-podman') && spawnSync('podman', ['--version']).status === 0 && spawnSync('runc', ['--version']).status === 0) {
    execFileSync('podman', [...podmanBase, 'import', rootfs, image], { stdio: 'ignore' });
    podman = true;
    // rlimits podman may set without CAP_SYS_RESOURCE, as in bench/start.mjs.
    cases['podman --network bridge'] = ['podman', [...podmanBase, '--runtime', 'runc', 'run', '--rm', '--network', 'bridge', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, '/bin/true']];
  }
  for (const [cmd, args] of Object.values(cases)) time(cmd, args); // warm: cache, page cache, the bridges up
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) for (const [name, [cmd, args]] of Object.entries(cases)) samples[name].push(time(cmd, args, name));
  // The first container after a prune: it makes the bridge and the table (they then stay).
  const cold = [];
  for (let i = 0; i < Math.min(runs, 10); i++) {
    const pruned = spawnSync(tsbox, ['network', 'prune'], { env, stdio: 'ignore' });
    if (pruned.status !== 0 || bridgeUp()) break; // another container uses it: no cold case to measure
    cold.push(time(...cases['tsbox --network bridge'], 'tsbox bridge, first after prune'));
  }
  if (cold.length > 0) samples['tsbox bridge, first after prune'] = cold;

  const none = median(samples['tsbox --network none']);
  console.log(`start to exit of run /bin/true, median of ${runs} interleaved runs (${(await import('node:os')).cpus().length} CPUs, load ${(await import('node:os')).loadavg()[0].toFixed(1)})`);
  for (const [name, xs] of Object.entries(samples)) {
    const m = median(xs);
    const c = cpu[name] ? cpu[name].reduce((a, b) => a + b, 0) / cpu[name].length : NaN;
    console.log(`${name.padEnd(32)} median ${m.toFixed(1).padStart(6)} ms  (${m - none >= 0 ? '+' : ''}${(m - none).toFixed(1)} ms vs tsbox none)  min ${Math.min(...xs).toFixed(1)} max ${Math.max(...xs).toFixed(1)}  CPU ${c.toFixed(1)} ms/run${xs.length !== runs ? `  (${xs.length} runs)` : ''}`);
  }
  const cpuMean = (name) => cpu[name].reduce((a, b) => a + b, 0) / cpu[name].length;
  for (const who of compare ? ['tsbox', 'compared'] : ['tsbox']) {
    const [n, b] = [`${who} --network none`, `${who} --network bridge`];
    console.log(`${who}: bridge - none: wall ${(median(samples[b]) - median(samples[n])).toFixed(1)} ms, CPU ${(cpuMean(b) - cpuMean(n)).toFixed(1)} ms${who === 'compared' ? ` (${compare})` : ''}`);
  }
  if (podman) console.log(`tsbox bridge / podman bridge: ${(median(samples['tsbox --network bridge']) / median(samples['podman --network bridge'])).toFixed(2)}x`);
} finally {
  if (!hadBridge) spawnSync(tsbox, ['network', 'prune'], { env, stdio: 'ignore' });
  if (podman) {
    spawnSync('podman', [...podmanBase, 'rmi', '-f', image], { stdio: 'ignore' });
    if (existsSync(store)) spawnSync('podman', [...podmanBase, 'system', 'reset', '-f'], { stdio: 'ignore' });
  }
  rmSync(work, { recursive: true, force: true });
}
