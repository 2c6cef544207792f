/**
 * A local registry for the pull tests: Debian's docker-registry on 127.0.0.1, a free port,
 * a temp storage dir; optional htpasswd (basic) or token auth. And podman/skopeo with an
 * isolated storage (vfs: no mounts to leave behind) to make and push the test images.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface LocalRegistry {
  host: string; // 127.0.0.1:PORT
  storage: string;
  stop(): Promise<void>;
}

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; file: string }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

function authYaml(auth: RegistryAuth): string {
  if (auth.kind === 'htpasswd') return `auth:\n  htpasswd:\n    realm: tsbox-test\n    path: ${auth.file}\n`;
  if (auth.kind === 'token') return `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${auth.rootCertBundle}\n`;
  return '';
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
  });
}

export async function startRegistry(dir: string, auth: RegistryAuth = { kind: 'none' }, tls?: { certificate: string; key: string }): Promise<LocalRegistry> {
  const storage = join(dir, 'storage');
  mkdirSync(storage, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${tls ? `  tls:\n    certificate: ${tls.certificate}\n    key: ${tls.key}\n` : ''}${authYaml(auth)}`);
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (await answers(`http://127.0.0.1:${port}/v2/`)) break;
    if (child.exitCode !== null || i > 200) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    storage,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** podman with its own storage under `dir`, the vfs driver (no overlay mounts) and no cgroups. */
export function podman(dir: string) {
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--tmpdir', join(dir, 'tmp'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
  return async (...args: string[]): Promise<string> => {
    const { stdout } = await run('podman', [...base, ...args], { maxBuffer: 64 << 20 });
    return stdout.trim();
  };
}

export async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', args, { maxBuffer: 64 << 20 });
  return stdout.trim();
}

export async function sh(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { maxBuffer: 64 << 20 });
  return stdout.trim();
}
