/**
 * Real engines driving tsbox-runtime, each isolated under a test's temp dir: podman with its
 * own --root/--runroot/--tmpdir and a CONTAINERS_CONF that lists tsbox-runtime among the
 * runtimes that write JSON logs (so podman passes --log-format=json and reads our errors), and
 * a busybox image imported into that store. Nothing touches the machine's storage or config.
 */
import { execFileSync, spawnSync, type StdioOptions } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RUNTIME_BIN = fileURLToPath(new URL('../../bin/tsbox-runtime', import.meta.url));

let runtimeCalls = 0;

/**
 * One call of bin/tsbox-runtime, as an engine makes it: `globals` (--root, --log...) before the
 * command, `extraFds` as the caller's fds 3.. (for --preserve-fds). stdout and stderr go to files
 * of their own under `dir`, as an engine's go to pipes it reads on its own: a created container's
 * init holds them (it inherited them for its command), so waiting for their end would wait for
 * the container.
 */
export function callRuntime(dir: string, globals: string[], args: string[], extraFds: number[] = []): { code: number | null; stdout: string; stderr: string } {
  const n = ++runtimeCalls;
  const out = join(dir, `runtime-out-${n}`);
  const err = join(dir, `runtime-err-${n}`);
  const [o, e] = [openSync(out, 'w'), openSync(err, 'w')];
  try {
    const r = spawnSync(RUNTIME_BIN, [...globals, ...args], { stdio: ['ignore', o, e, ...extraFds] as StdioOptions, timeout: 60_000 });
    return { code: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(o);
    closeSync(e);
  }
}

/**
 * A test file's scratch dir (under tmpdir, named from `prefix`): its runtime state root and
 * a busybox root filesystem. removeRuntimeScratch takes it all down.
 */
export function runtimeScratch(prefix: string): { dir: string; stateRoot: string; rootfs: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, stateRoot: join(dir, 'state'), rootfs: busyboxRootfs(join(dir, 'rootfs')) };
}

/** The end of a suite that calls the runtime directly: every container left in `stateRoot` deleted by force, then `dir`. */
export function removeRuntimeScratch(dir: string, stateRoot: string): void {
  for (const id of existsSync(stateRoot) ? readdirSync(stateRoot) : []) callRuntime(dir, ['--root', stateRoot], ['delete', '--force', id]);
  rmSync(dir, { recursive: true, force: true });
}

/** A busybox root filesystem with a passwd and group file. */
export function busyboxRootfs(dir: string): string {
  for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  for (const c of ['sh', 'ls', 'cat', 'echo', 'id', 'sleep', 'wc', 'hostname', 'tty', 'true']) symlinkSync('busybox', join(dir, 'bin', c));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  return dir;
}

export interface Podman {
  /** podman with the isolated store and tsbox-runtime (or `runtime`); status, stdout, stderr. */
  run(args: string[], opts?: { input?: string; runtime?: string }): { code: number | null; stdout: string; stderr: string };
  image: string;
  env: NodeJS.ProcessEnv;
  base: string[];
}

export function isolatedPodman(dir: string): Podman {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, [
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "none"',
    'runtime_supports_json = ["crun", "runc", "tsbox-runtime"]',
    'runtime_supports_nocgroup = ["crun", "tsbox-runtime"]',
    '[containers]',
    'netns = "none"',
    '',
  ].join('\n'));
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--storage-driver', 'vfs'];
  const rfs = busyboxRootfs(join(dir, 'rfs'));
  execFileSync('tar', ['-C', rfs, '-cf', join(dir, 'bb.tar'), '.']);
  execFileSync('podman', [...base, 'import', join(dir, 'bb.tar'), 'localhost/oci-bb:latest'], { env, stdio: 'ignore' });
  return {
    image: 'localhost/oci-bb:latest',
    env,
    base,
    run(args, opts = {}) {
      const r = spawnSync('podman', [...base, '--runtime', opts.runtime ?? RUNTIME_BIN, ...args], { env, input: opts.input ?? '', encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

/** Cgroup v2 directories whose name contains one of `ids` (what a container's create makes). */
export function cgroupsNamed(ids: string[], base = '/sys/fs/cgroup/unified'): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth === 0) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (ids.some((id) => e.name.includes(id))) out.push(p);
      walk(p, depth - 1);
    }
  };
  walk(base, 3);
  return out;
}

export interface Containerd {
  ctr(args: string[], opts?: { input?: string; timeoutMs?: number }): { code: number | null; stdout: string; stderr: string };
  ctrArgs: string[];
  image: string;
  namespace: string;
  stop(): Promise<void>;
}

/**
 * A containerd of the test's own: its config, root, state and sockets under `dir` (CRI off),
 * started here and stopped by its pid; the image is `podman`'s, saved as an oci-archive and
 * imported with ctr.
 */
export async function privateContainerd(dir: string, podman: Podman): Promise<Containerd> {
  const { spawn } = await import('node:child_process');
  const { existsSync, openSync } = await import('node:fs');
  const sock = join(dir, 'c.sock');
  writeFileSync(join(dir, 'config.toml'), [
    'version = 2',
    `root = "${join(dir, 'root')}"`,
    `state = "${join(dir, 'state')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]', `  address = "${sock}"`,
    '[ttrpc]', `  address = "${sock}.ttrpc"`,
    '[debug]', `  address = "${join(dir, 'debug.sock')}"`,
    '[metrics]', '  address = ""',
    '',
  ].join('\n'));
  const log = openSync(join(dir, 'containerd.log'), 'a');
  const daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', log, log] });
  for (let i = 0; !existsSync(sock); i++) {
    if (daemon.exitCode !== null || i > 1000) throw new Error(`containerd did not start; see ${join(dir, 'containerd.log')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const namespace = `tsbox-oci-${process.pid}`;
  const ctrArgs = ['-a', sock, '-n', namespace];
  const ctr: Containerd['ctr'] = (args, opts = {}) => {
    const r = spawnSync('ctr', [...ctrArgs, ...args], { input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const archive = join(dir, 'bb-oci.tar');
  execFileSync('podman', [...podman.base, 'save', '--format', 'oci-archive', '-o', archive, podman.image], { env: podman.env, stdio: 'ignore' });
  const imported = ctr(['images', 'import', archive]);
  if (imported.code !== 0) throw new Error(`ctr images import failed: ${imported.stderr}`);
  return {
    ctr,
    ctrArgs,
    image: podman.image,
    namespace,
    async stop() {
      if (daemon.exitCode !== null) return;
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    },
  };
}
