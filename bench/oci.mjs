#!/usr/bin/env node
/**
 * tsbox-runtime against runc, in the same run, alternating (machine noise hits both):
 *
 *   1. `podman --runtime X run --rm IMG true`, X = bin/tsbox-runtime and runc (target: at
 *      most 1.2x runc). An isolated podman store under $TMPDIR/tsbox-bench-oci (vfs), a busybox
 *      image; --pids-limit -1 and --ulimit nofile/nproc=1024 for both (see docs/oci-runtime.md).
 *   2. create + start + delete of one bundle, called directly (no engine), `X create`, `X start`
 *      of a `true` container, wait for it to exit, `X delete`. The parent of the container's
 *      init is then this process's reaper (pid 1), as it would be the engine's subreaper.
 *
 *   node bench/oci.mjs [--runs N] [--baseline DIR]
 * --baseline DIR: another built checkout of tsbox (e.g. main's, in a git worktree): its
 * bin/tsbox-runtime is measured in the same loop, so that an A/B comparison sees the same
 * machine noise. Needs root. Prints medians, the ratios, and each runtime's calls' CPU
 * (user+sys of the calls themselves: the container's init, reparented, is not counted).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const project = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSBOX = join(project, 'bin/tsbox-runtime');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 10;
const baseline = args.includes('--baseline') ? join(resolve(args[args.indexOf('--baseline') + 1]), 'bin/tsbox-runtime') : null;
if (baseline && !existsSync(baseline)) throw new Error(`no ${baseline}: build that checkout first`);
// A directory of its own: two benchmarks (two checkouts) may run at once.
const work = mkdtempSync(join(tmpdir(), 'tsbox-bench-oci-'));

// A busybox rootfs, an image of it in an isolated podman store, and a bundle on it.
const rfs = join(work, 'rootfs');
for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(rfs, d), { recursive: true });
copyFileSync('/bin/busybox', join(rfs, 'bin/busybox'));
for (const c of ['sh', 'true']) symlinkSync('busybox', join(rfs, 'bin', c));
writeFileSync(join(rfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
execFileSync('tar', ['-C', rfs, '-cf', join(work, 'bb.tar'), '.']);
const conf = join(work, 'containers.conf');
writeFileSync(conf, '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\nruntime_supports_json = ["crun", "runc", "tsbox-runtime"]\n[containers]\nnetns = "none"\n');
const env = { ...process.env, CONTAINERS_CONF: conf };
const store = ['--root', join(work, 'p/root'), '--runroot', join(work, 'p/run'), '--tmpdir', join(work, 'p/tmp'), '--storage-driver', 'vfs'];
execFileSync('podman', [...store, 'import', join(work, 'bb.tar'), 'localhost/bench-bb:latest'], { env, stdio: 'ignore' });

const runc = execFileSync('sh', ['-c', 'command -v runc']).toString().trim();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function podmanRun(runtime) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('podman', [...store, '--runtime', runtime, 'run', '--rm', '--pids-limit', '-1', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', 'localhost/bench-bb:latest', 'true'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`podman --runtime ${runtime} failed: ${r.stderr}`);
  return ms(t0);
}

// The bundle: the runtime's default spec, without a terminal, running `true`.
const bundleDir = join(work, 'bundle');
mkdirSync(bundleDir);
execFileSync(TSBOX, ['spec', '--bundle', bundleDir]);
const config = JSON.parse(readFileSync(join(bundleDir, 'config.json'), 'utf8'));
config.root = { path: rfs, readonly: true };
Object.assign(config.process, { terminal: false, args: ['true'] });
config.process.capabilities.ambient = [];
// runc writes cgroup v1 on this hybrid host; both get the same config (no limits).
writeFileSync(join(bundleDir, 'config.json'), JSON.stringify(config));

/** CPU (user+sys, ms) of the calls this process waited for, from /usr/bin/time. */
const cpu = { sum: 0 };
function lifecycle(runtime, id) {
  const root = join(work, `state-${runtime === TSBOX ? 'tsbox' : runtime === baseline ? 'baseline' : 'runc'}`);
  const timeFile = join(work, 'time');
  // stderr to a file: the created container's init inherits it (for its command), and waiting
  // for a pipe's end would wait for the container, which waits for start.
  const errFile = join(work, 'stderr');
  const call = (...a) => {
    const fd = openSync(errFile, 'w');
    const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%U %S', runtime, '--root', root, ...a], { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    if (r.status !== 0) throw new Error(`${runtime} ${a.join(' ')}: ${readFileSync(errFile, 'utf8')}`);
    const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    cpu.sum += (u + s) * 1000;
    return r;
  };
  cpu.sum = 0;
  const t0 = process.hrtime.bigint();
  call('create', '--bundle', bundleDir, '--pid-file', join(work, 'pid'), id);
  const pid = Number(readFileSync(join(work, 'pid'), 'utf8'));
  call('start', id);
  // `true` exits at once; its parent (pid 1 here) reaps it.
  while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')) ;
  call('delete', '--force', id);
  return [ms(t0), cpu.sum];
}

const runtimes = [['tsbox-runtime', TSBOX], ['runc', runc], ...(baseline ? [['baseline', baseline]] : [])];
const results = Object.fromEntries(runtimes.map(([name]) => [name, { podman: [], life: [], lifeCpu: [] }]));
try {
for (const [, bin] of runtimes) podmanRun(bin); // warm each (page cache, podman's own first-run work)
for (let i = 0; i < runs; i++) {
  for (const [name, bin] of runtimes) {
    results[name].podman.push(podmanRun(bin));
    const [wall, cpuMs] = lifecycle(bin, `bench-${name}-${i}`);
    results[name].life.push(wall);
    results[name].lifeCpu.push(cpuMs);
  }
}
const m = Object.fromEntries(runtimes.map(([name]) => [name, Object.fromEntries(Object.entries(results[name]).map(([k, v]) => [k, median(v)]))]));
console.log(`runs: ${runs} (medians, ms)${baseline ? `; baseline: ${baseline}` : ''}`);
for (const [name] of runtimes) {
  const r = m[name];
  console.log(`${name.padEnd(14)} podman run --rm IMG true ${r.podman.toFixed(0).padStart(4)} (${(r.podman / m.runc.podman).toFixed(2)}x runc, target <= 1.2x)   create+start+delete ${r.life.toFixed(0).padStart(4)} (${(r.life / m.runc.life).toFixed(2)}x runc), CPU of those calls ${r.lifeCpu.toFixed(0)}`);
}
} finally {
  // Nothing left behind, also when a run failed: podman's containers and store, the bundles.
  for (const state of ['tsbox', 'baseline']) {
    const root = join(work, `state-${state}`);
    for (const id of existsSync(root) ? readdirSync(root) : []) spawnSync(state === 'tsbox' ? TSBOX : baseline, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
  }
  spawnSync('podman', [...store, 'rm', '-af'], { env, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
