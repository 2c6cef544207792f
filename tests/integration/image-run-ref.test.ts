/**
 * `tsbox run REF` and `tsbox pull REF` into the image store, against Debian's
 * docker-registry on 127.0.0.1 (started here, stopped in afterAll): a pull extracts each
 * layer once into the layer store and records the image under its reference; run pulls an
 * image that is not stored (docker's --pull missing), never pulls with --pull never, and
 * pulls again with --pull always; a SIGKILL in the middle of a layer's extraction leaves
 * nothing the next pull cannot finish. Images are made here with podman; nothing comes
 * from the internet.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/faults.js';
import { podman, sh, startRegistry, type LocalRegistry } from '../helpers/registry.js';
import { TSBOX_BIN, tsbox } from '../helpers/tsbox.js';

let work: string;
let registry: LocalRegistry;
let pm: ReturnType<typeof podman>;

/** An image of busybox that prints `said` (its CMD), plus `extraBytes` of random data. */
async function pushImage(tag: string, said: string, extraBytes = 0): Promise<string> {
  const dir = join(work, `rootfs-${tag}`);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  if (extraBytes > 0) writeFileSync(join(dir, 'payload'), randomBytes(extraBytes));
  const tar = join(work, `${tag}.tar`);
  await sh('tar', ['-C', dir, '-cf', tar, '.']);
  await pm('import', '--change', `CMD ["/bin/busybox","echo","${said}"]`, '--change', 'ENV FROM=registry', tar, `localhost/t-${tag}:latest`);
  const ref = `${registry.host}/t/run:${tag}`;
  await pm('push', '--tls-verify=false', '--format', 'v2s2', `localhost/t-${tag}:latest`, ref);
  return ref;
}

const freshRoot = () => mkdtempSync(join(work, 'state-'));
const layerEntries = (root: string) => (existsSync(join(root, 'layers')) ? readdirSync(join(root, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n)) : []);
const temps = (root: string) => (existsSync(join(root, 'rootfs')) ? readdirSync(join(root, 'rootfs')).filter((n) => n.startsWith('.tmp-') && !n.endsWith('.lock')) : []);

beforeAll(async () => {
  work = mkdtempSync('/var/tmp/tsbox-image-run-ref-');
  pm = podman(join(work, 'podman'));
  registry = await startRegistry(join(work, 'registry'));
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('images from a registry', () => {
  it('run REF pulls a missing image, runs its config, and stores it under the reference', async () => {
    const ref = await pushImage('one', 'from-one');
    const root = freshRoot();
    const r = await tsbox(['run', '--rm', ref], { root, timeoutMs: 60_000 });
    expect([r.code, r.stderr, r.stdout]).toEqual([0, '', 'from-one\n']);
    expect(layerEntries(root)).toHaveLength(1);
    const images = await tsbox(['images'], { root });
    expect(images.stdout).toContain(`${registry.host}/t/run`);
    // Stored: --pull never finds it by name, and the env comes from its config.
    const env = await tsbox(['run', '--rm', '--pull', 'never', ref, '/bin/busybox', 'sh', '-c', 'echo $FROM'], { root, timeoutMs: 60_000 });
    expect([env.code, env.stdout]).toEqual([0, 'registry\n']);
  });

  it('pull extracts into the layer store once; --pull always fetches the tag again', async () => {
    const ref = await pushImage('two', 'first');
    const root = freshRoot();
    const pulled = await tsbox(['pull', '-q', ref], { root, timeoutMs: 60_000 });
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(layerEntries(root)).toHaveLength(1);
    expect((await tsbox(['run', '--rm', ref], { root })).stdout).toBe('first\n');
    // The tag moves to another image in the registry: missing keeps the stored one, always takes the new.
    await pushImage('two-b', 'second');
    await pm('tag', 'localhost/t-two-b:latest', 'localhost/t-two:latest');
    await pm('push', '--tls-verify=false', '--format', 'v2s2', 'localhost/t-two:latest', ref);
    expect((await tsbox(['run', '--rm', ref], { root })).stdout).toBe('first\n');
    expect((await tsbox(['run', '--rm', '--pull', 'always', ref], { root, timeoutMs: 60_000 })).stdout).toBe('second\n');
  });

  it('SIGKILL during a layer\'s extraction: nothing half-made is used, the next pull finishes', async () => {
    const ref = await pushImage('big', 'big', 96 << 20);
    const root = freshRoot();
    const child = spawn(TSBOX_BIN, ['pull', '-q', ref], { env: { ...process.env, TSBOX_ROOT: root }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // The blob is complete and the layer is being written into a temp dir of the store.
    await waitFor(() => temps(root).some((t) => existsSync(join(root, 'rootfs', t, 'tree', 'bin'))), 120_000, 'the extraction to start', 2);
    child.kill('SIGKILL');
    await exited;
    expect(layerEntries(root)).toEqual([]);
    const again = await tsbox(['pull', '-q', ref], { root, timeoutMs: 120_000 });
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(temps(root)).toEqual([]);
    expect(layerEntries(root)).toHaveLength(1);
    expect((await tsbox(['run', '--rm', '--pull', 'never', ref], { root })).stdout).toBe('big\n');
  });
});
