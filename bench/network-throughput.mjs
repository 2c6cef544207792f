#!/usr/bin/env node
// Throughput through a published port against straight to the container's address, and
// podman's published port, in the same run: busybox httpd in a container serves a file from
// a tmpfs, curl on the host downloads it. Paths, alternating in rounds so load drift hits all:
//   tsbox direct           curl http://CONTAINER_IP:8000/blob      (bridge, no NAT)
//   tsbox -p via 127.0.0.1 curl http://127.0.0.1:HOSTPORT/blob     (DNAT in output, route_localnet, masquerade)
//   tsbox -p via host addr curl http://HOST_IP:HOSTPORT/blob       (DNAT in output)
//   podman -p via 127.0.0.1 / host addr, and podman direct (its container's address)
//
//   sudo node bench/network-throughput.mjs [--mib 256] [--rounds 15]
//
// podman and runc are optional; podman's storage lives in a temporary directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, cpus, loadavg } from 'node:os';
import { numberArg, TSBOX, workspace } from './common.mjs';
import { cgroup2Mount, cgroupOfPid, clientGroup, usageUsec } from './cpu-usage.mjs';

const mib = numberArg('--mib', 256);
const rounds = numberArg('--rounds', 15);
const tsbox = TSBOX;
const { work, rootfs, env, store, podmanBase } = workspace();
const image = 'localhost/tsbox-bench-netput';
const SERVE = `head -c ${mib * 1024 * 1024} /dev/zero > /www/blob && exec httpd -f -p 8000 -h /www`;

const hostIp = Object.entries(networkInterfaces()).filter(([n]) => n !== 'lo' && !n.startsWith('tsb') && !n.includes('podman') && !n.startsWith('veth'))
  .flatMap(([, a]) => a ?? []).find((a) => a.family === 'IPv4' && !a.internal).address;

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

const cgMount = cgroup2Mount();
let client = null;

/**
 * One download: MiB/s, and the CPU milliseconds per GiB that curl's group and the serving
 * container's group used for it (null without cgroup v2), or throws.
 */
function download(url, serverGroup) {
  const args = ['-sS', '--fail', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url];
  const opts = { encoding: 'utf8', timeout: 120_000 };
  const cpu = () => (client && serverGroup ? usageUsec(client.dir) + usageUsec(serverGroup) : 0);
  const before = cpu();
  const r = client ? client.run('curl', args, opts) : spawnSync('curl', args, opts);
  const used = cpu() - before;
  if (r.status !== 0) throw new Error(`curl ${url}: ${r.stderr || r.status}`);
  const [size, secs] = r.stdout.trim().split(' ').map(Number);
  if (size !== mib * 1024 * 1024) throw new Error(`curl ${url}: ${size} bytes`);
  return { mibps: size / 1024 / 1024 / secs, cpuMsPerGiB: client && serverGroup ? used / 1000 / (mib / 1024) : null };
}

/** Polls until the server answers (it first writes its file). */
function waitServing(url) {
  for (let i = 0; i < 300; i++) {
    if (spawnSync('curl', ['-sS', '--fail', '-o', '/dev/null', '-r', '0-0', url]).status === 0) return;
    spawnSync('sleep', ['0.1']);
  }
  throw new Error(`${url} never answered`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const containers = [];
let podman = false;
try {
  execFileSync(tsbox, ['rootfs', 'from-host', rootfs], { env, stdio: 'ignore' });
  const tPort = await freePort();
  const id = execFileSync(tsbox, ['run', '-d', '--tmpfs', '/www:size=1g', '-p', `${tPort}:8000`, rootfs, 'sh', '-c', SERVE], { env, encoding: 'utf8' }).trim();
  containers.push(() => spawnSync(tsbox, ['rm', '-f', id], { env, stdio: 'ignore' }));
  const tRecord = JSON.parse(execFileSync(tsbox, ['inspect', id], { env, encoding: 'utf8' }))[0];
  const tIp = tRecord.ip;
  if (cgMount) client = clientGroup(cgMount);
  const groups = { tsbox: cgMount ? cgroupOfPid(cgMount, tRecord.pid) : null };
  const paths = {
    'tsbox direct': `http://${tIp}:8000/blob`,
    'tsbox -p via 127.0.0.1': `http://127.0.0.1:${tPort}/blob`,
    'tsbox -p via host address': `http://${hostIp}:${tPort}/blob`,
  };
  if (spawnSync('podman', ['--version']).status === 0 && spawnSync('runc', ['--version']).status === 0) {
    execFileSync('podman', [...podmanBase, 'import', rootfs, image], { stdio: 'ignore' });
    podman = true;
    const pPort = await freePort();
    const pid = execFileSync('podman', [...podmanBase, '--runtime', 'runc', 'run', '-d', '--network', 'bridge', '--tmpfs', '/www:size=1g', '-p', `${pPort}:8000`,
      '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, 'sh', '-c', SERVE], { encoding: 'utf8' }).trim();
    containers.push(() => spawnSync('podman', [...podmanBase, 'rm', '-f', pid], { stdio: 'ignore' }));
    const pIp = execFileSync('podman', [...podmanBase, 'inspect', '-f', '{{.NetworkSettings.IPAddress}}', pid], { encoding: 'utf8' }).trim();
    const pPid = execFileSync('podman', [...podmanBase, 'inspect', '-f', '{{.State.Pid}}', pid], { encoding: 'utf8' }).trim();
    groups.podman = cgMount ? cgroupOfPid(cgMount, pPid) : null;
    paths['podman direct'] = `http://${pIp}:8000/blob`;
    paths['podman -p via 127.0.0.1'] = `http://127.0.0.1:${pPort}/blob`;
    paths['podman -p via host address'] = `http://${hostIp}:${pPort}/blob`;
  }
  for (const url of Object.values(paths)) waitServing(url);
  const groupOf = (name) => groups[name.split(' ')[0]];
  for (const [name, url] of Object.entries(paths)) download(url, groupOf(name)); // warm: page cache, ARP, conntrack
  const samples = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
  const cpuSamples = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
  // Each round runs every path once, in reverse order every other round so that no path
  // always follows the same one (a download leaves caches and softirq backlog to the next).
  const entries = Object.entries(paths);
  for (let r = 0; r < rounds; r++) {
    for (const [name, url] of r % 2 ? [...entries].reverse() : entries) {
      const d = download(url, groupOf(name));
      samples[name].push(d.mibps);
      cpuSamples[name].push(d.cpuMsPerGiB);
    }
  }
  console.log(`download of ${mib} MiB from busybox httpd, MiB/s, median of ${rounds} rounds (${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)})`);
  const direct = median(samples['tsbox direct']);
  for (const [name, xs] of Object.entries(samples)) {
    const m = median(xs);
    console.log(`${name.padEnd(28)} ${m.toFixed(0).padStart(6)} MiB/s  (${(m / direct).toFixed(2)}x tsbox direct)  min ${Math.min(...xs).toFixed(0)} max ${Math.max(...xs).toFixed(0)}`);
  }
  // The must-hold ratio, paired: each round's published-port download over the same round's
  // direct one, then the median. Load that drifts over the run (other people's test suites
  // on a 2-core machine) moves both downloads of a round alike, and cancels in the ratio.
  const paired = (a, b) => median(samples[a].map((x, i) => x / samples[b][i]));
  for (const who of podman ? ['tsbox', 'podman'] : ['tsbox']) {
    for (const via of ['127.0.0.1', 'host address']) {
      console.log(`${who} -p via ${via} / ${who} direct, median of per-round ratios: ${paired(`${who} -p via ${via}`, `${who} direct`).toFixed(2)}x`);
    }
  }
  if (cpuSamples['tsbox direct'][0] !== null) {
    console.log('CPU per GiB (curl and the serving container, cgroup v2 usage), median; paired ratio direct / path = throughput the CPU cost allows, relative to direct:');
    for (const [name, xs] of Object.entries(cpuSamples)) {
      const who = name.split(' ')[0];
      const rel = median(xs.map((x, i) => cpuSamples[`${who} direct`][i] / x));
      console.log(`${name.padEnd(28)} ${median(xs).toFixed(0).padStart(6)} ms/GiB  (${rel.toFixed(2)}x)`);
    }
  }
  if (podman) {
    for (const via of ['127.0.0.1', 'host address']) {
      console.log(`tsbox -p / podman -p via ${via}: ${(median(samples[`tsbox -p via ${via}`]) / median(samples[`podman -p via ${via}`])).toFixed(2)}x`);
    }
  }
} finally {
  for (const rm of containers.reverse()) rm();
  client?.remove();
  if (podman) {
    spawnSync('podman', [...podmanBase, 'rmi', '-f', image], { stdio: 'ignore' });
    spawnSync('podman', [...podmanBase, 'system', 'reset', '-f'], { stdio: 'ignore' });
  }
  rmSync(work, { recursive: true, force: true });
}
