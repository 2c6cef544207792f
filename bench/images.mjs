#!/usr/bin/env node
/**
 * Image benchmarks against podman, in the same run, alternating, medians (issue #13):
 *   1. first run of a docker-archive: `tsbox run --rm ARCHIVE CMD` on an empty state root
 *      vs `podman load -i ARCHIVE` + `podman run --rm IMAGE CMD` on an empty storage;
 *   2. pull from a docker-registry on 127.0.0.1 (Debian's package, started and stopped
 *      here): `tsbox pull` vs `podman pull`, both on empty stores;
 *   3. warm start: `tsbox run --rm ARCHIVE CMD` again vs the same files as a rootfs tarball.
 *
 *   node bench/images.mjs [--runs N] [--only first|pull|warm] [--image debian|standin]
 *                         [--members usr/share/doc,usr/share/man]
 *                         [--base OTHER_CHECKOUT]   (pull: that build's tsbox too, in the same rotation)
 *
 * The image (`--image debian`, the default): a real Debian, made by `debootstrap --variant=minbase`
 * from the mirror apt is configured with on this machine (read from /etc/apt at run time, so no
 * host is named here; about 30 s once, kept in the work dir), imported with `podman import` and
 * saved as a docker-archive (about 210 MB). `--image standin` needs no mirror: parts of the
 * host's /usr (many small files, like a distribution image) plus a static busybox.
 * podman uses its own storage under the work dir (overlay driver, runc: Debian's podman
 * defaults to crun, which refuses hybrid cgroup hosts) and the ulimits it can set here.
 * Generated files live under $TMPDIR/tsbox-bench-images, never in the repository. Root only.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get } from 'node:http';
import { createServer } from 'node:net';

const project = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsboxBin = join(project, 'bin', 'tsbox');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
const members = (args.includes('--members') ? args[args.indexOf('--members') + 1] : 'usr/share/doc,usr/share/man').split(',');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const imageKind = args.includes('--image') ? args[args.indexOf('--image') + 1] : 'debian';
if (imageKind !== 'debian' && imageKind !== 'standin') throw new Error(`--image: ${imageKind}: expected debian or standin`);
const wanted = (phase) => only === null || only === phase;
const work = join(tmpdir(), 'tsbox-bench-images');
mkdirSync(work, { recursive: true });
const CMD = imageKind === 'debian' ? ['/bin/true'] : ['/bin/busybox', 'true'];
const IMAGE = `localhost/tsbox-bench/debian-${imageKind}:latest`;

const sh = (cmd, argv) => execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 }).toString();
const podmanStorage = (dir) => ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
const podman = (dir, ...argv) => sh('podman', [...podmanStorage(dir), ...argv]);
const podmanRun = ['--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'none'];

function timed(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** wall ms and CPU s (user+sys of the command and the children it waited for), from /usr/bin/time. */
function timedCpu(cmd, argv, env = process.env) {
  const out = join(work, `time-${process.pid}.txt`);
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', out, cmd, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.status}: ${r.stderr}`);
  const [user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  rmSync(out, { force: true });
  return { wall, user, sys };
}

function tsbox(root, argv) {
  const r = spawnSync(tsboxBin, argv, { env: { ...process.env, TSBOX_ROOT: root }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`tsbox ${argv.join(' ')}: ${r.status}: ${r.stderr}`);
}

function resetPodman(dir) {
  if (existsSync(dir)) spawnSync('podman', [...podmanStorage(dir), 'system', 'reset', '--force'], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** The Debian mirror apt uses here: the first URIs line (deb822) or deb line (one-line format). */
function debianMirror() {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates.filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text)?.[1];
    if (uri) return uri;
  }
  throw new Error('no Debian mirror in /etc/apt: use --image standin');
}

/** A minbase Debian as a rootfs tarball (the release the host runs). */
function debootstrapRootfs(rootfsTar) {
  const dir = join(work, 'debian-rootfs');
  rmSync(dir, { recursive: true, force: true });
  const release = /^VERSION_CODENAME=(\S+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'bookworm';
  console.error(`debootstrap --variant=minbase ${release} (once)...`);
  sh('debootstrap', ['--variant=minbase', release, dir, debianMirror()]);
  sh('tar', ['--numeric-owner', '-cf', rootfsTar, '-C', dir, '.']);
  rmSync(dir, { recursive: true, force: true });
}

/** The rootfs tarball and the image archive made from it (once; kept between runs). */
function buildInputs() {
  const rootfsTar = join(work, `rootfs-${imageKind}.tar`);
  const archive = join(work, `image-${imageKind}-docker.tar`);
  if (existsSync(rootfsTar) && existsSync(archive)) return { rootfsTar, archive };
  if (imageKind === 'debian') debootstrapRootfs(rootfsTar);
  else standinRootfs(rootfsTar);
  const store = join(work, 'podman-build');
  resetPodman(store);
  podman(store, 'import', rootfsTar, IMAGE);
  podman(store, 'save', '--format', 'docker-archive', '-o', archive, IMAGE);
  resetPodman(store);
  return { rootfsTar, archive };
}

function standinRootfs(rootfsTar) {
  const extra = join(work, 'extra');
  mkdirSync(join(extra, 'bin'), { recursive: true });
  mkdirSync(join(extra, 'tmp'), { recursive: true });
  chmodSync(join(extra, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(extra, 'bin', 'busybox'));
  chmodSync(join(extra, 'bin', 'busybox'), 0o755);
  console.error(`creating ${rootfsTar} from /${members.join(', /')} and busybox...`);
  sh('tar', ['--numeric-owner', '-cf', rootfsTar, '-C', '/', ...members, '-C', extra, 'bin', 'tmp']);
}

function freePort() {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function startRegistry() {
  const dir = join(work, 'registry');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((res) => get(`http://127.0.0.1:${port}/v2/`, (r) => { r.resume(); res(true); }).on('error', () => res(false)));
    if (up) return { host: `127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('docker-registry did not start');
}

const { rootfsTar, archive } = buildInputs();
const described = imageKind === 'debian' ? 'Debian minbase' : `host /${members.join(', /')} + busybox`;
console.log(`archive: ${(statSync(archive).size / 1e6).toFixed(0)} MB docker-archive (${described}); ${runs} runs each, alternating`);

// 1. First run of the archive.
const first = { tsbox: [], podman: [] };
for (let i = 0; wanted('first') && i < runs; i++) {
  const root = join(work, `state-${i}`);
  rmSync(root, { recursive: true, force: true });
  first.tsbox.push(timed(() => tsbox(root, ['run', '--rm', archive, ...CMD])));
  rmSync(root, { recursive: true, force: true });
  const store = join(work, `podman-${i}`);
  resetPodman(store);
  first.podman.push(timed(() => {
    podman(store, 'load', '-q', '-i', archive);
    podman(store, 'run', '--rm', ...podmanRun, IMAGE, ...CMD);
  }));
  resetPodman(store);
}
if (wanted('first')) console.log(`first run:  tsbox run ${fmt(median(first.tsbox))}, podman load + run ${fmt(median(first.podman))}, ratio ${(median(first.tsbox) / median(first.podman)).toFixed(2)}x (target <= 0.5x)`);

// 2. Pull from a local registry.
const registry = wanted('pull') ? await startRegistry() : null;
if (registry) try {
  const push = join(work, 'podman-push');
  resetPodman(push);
  podman(push, 'load', '-q', '-i', archive);
  const ref = `${registry.host}/bench/debian-${imageKind}:latest`;
  podman(push, 'push', '--tls-verify=false', '--format', 'v2s2', IMAGE, ref);
  resetPodman(push);
  // Each engine in turn (the removal of the previous one's tree included: an ext4 without a
  // journal skips recently freed inodes one by one, so every pull pays for the last removal).
  const base = args.includes('--base') ? resolve(args[args.indexOf('--base') + 1], 'bin', 'tsbox') : null;
  const engines = {
    tsbox: (root) => timedCpu(tsboxBin, ['pull', '-q', ref], { ...process.env, TSBOX_ROOT: root }),
    ...(base ? { base: (root) => timedCpu(base, ['pull', '-q', ref], { ...process.env, TSBOX_ROOT: root }) } : {}),
    podman: (store) => timedCpu('podman', [...podmanStorage(store), 'pull', '-q', '--tls-verify=false', ref]),
  };
  const pull = Object.fromEntries(Object.keys(engines).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of Object.entries(engines)) {
      const dir = join(work, `pull-${name}-${i}`);
      if (name === 'podman') resetPodman(dir); else rmSync(dir, { recursive: true, force: true });
      const m = fn(dir);
      pull[name].push(m);
      console.error(`  run ${i + 1} ${name}: ${fmt(m.wall)} wall, ${(m.user + m.sys).toFixed(2)} s CPU (user ${m.user.toFixed(2)}, sys ${m.sys.toFixed(2)})`);
      if (name === 'podman') resetPodman(dir); else rmSync(dir, { recursive: true, force: true });
    }
  }
  const med = (name, f) => median(pull[name].map(f));
  const line = (name) => `${name === 'podman' ? 'podman pull' : name === 'base' ? 'base tsbox pull' : 'tsbox pull'} ${fmt(med(name, (m) => m.wall))} (CPU ${med(name, (m) => m.user + m.sys).toFixed(2)} s)`;
  console.log(`pull:       ${line('tsbox')}${base ? `, ${line('base')}` : ''}, ${line('podman')}, ratio ${(med('tsbox', (m) => m.wall) / med('podman', (m) => m.wall)).toFixed(2)}x (target <= 0.7x)${base ? `, tsbox/base ${(med('tsbox', (m) => m.wall) / med('base', (m) => m.wall)).toFixed(2)}x` : ''}`);
} finally {
  registry.stop();
}

// 3. Warm start: the image archive vs the same files as a rootfs tarball, one state root.
if (!wanted('warm')) process.exit(0);
const root = join(work, 'state-warm');
rmSync(root, { recursive: true, force: true });
tsbox(root, ['run', '--rm', archive, ...CMD]);
tsbox(root, ['run', '--rm', rootfsTar, ...CMD]);
const warm = { image: [], rootfs: [] };
for (let i = 0; i < Math.max(runs, 5); i++) {
  warm.image.push(timed(() => tsbox(root, ['run', '--rm', archive, ...CMD])));
  warm.rootfs.push(timed(() => tsbox(root, ['run', '--rm', rootfsTar, ...CMD])));
}
rmSync(root, { recursive: true, force: true });
console.log(`warm start: image archive ${median(warm.image).toFixed(0)} ms, rootfs tarball ${median(warm.rootfs).toFixed(0)} ms (median of ${warm.image.length})`);
