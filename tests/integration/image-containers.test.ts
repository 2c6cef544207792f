/**
 * Containers of images, as a store sees them: layers stacked (not copied) and shared
 * between images with a common base; referenced by each container so that neither an
 * image's removal nor a prune takes a layer a container uses (also after tsbox was killed:
 * gc gives the reference back); the image's StopSignal used by stop, its labels merged
 * under the user's in inspect.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/faults.js';
import { usePodmanImages, type PodmanImages } from '../helpers/podman-images.js';
import { TSBOX_BIN, tsbox } from '../helpers/tsbox.js';

let work: string;
let imgs: PodmanImages;
let stopArchive: string;

usePodmanImages('tsbox-image-containers-', (made) => {
  ({ work, imgs } = made);
  const script = "trap 'echo got-usr1; exit 7' USR1; echo ready; while :; do sleep 1; done";
  imgs.podman('import', '--change', 'STOPSIGNAL SIGUSR1', '--change', `CMD ["/bin/sh","-c","${script}"]`, '--change', 'LABEL team=image', '--change', 'LABEL tier=base', join(imgs.dir, 'bb.tar'), 'localhost/t-stop:latest');
  stopArchive = join(work, 'stop.tar');
  imgs.podman('save', '--format', 'docker-archive', '-o', stopArchive, 'localhost/t-stop:latest');
}, 180_000);

/** A private state root per test: its layer store is the test's to count. */
const freshRoot = () => mkdtempSync(join(work, 'root-'));
const layers = (root: string) => readdirSync(join(root, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
const refs = (root: string) => (existsSync(join(root, 'images', 'refs')) ? readdirSync(join(root, 'images', 'refs')).filter((n) => n.endsWith('.json')) : []);
/** The root overlay's lowers, top first: `lowerdir+=` one each (stacked) or one `lowerdir=` (a single tree). */
const lowerdirs = (mountinfo: string) => [...mountinfo.split('\n')[0]!.matchAll(/lowerdir\+?=([^,]+)/g)].flatMap((m) => m[1]!.split(':'));

async function ok(args: string[], root: string): Promise<string> {
  const r = await tsbox(args, { root, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`tsbox ${args.join(' ')}: ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('containers of images', () => {
  it('two images with a common base: the base is extracted once and both containers stack the same tree', async () => {
    const root = freshRoot();
    const base = await ok(['run', '--rm', '--entrypoint', '/bin/cat', imgs.baseArchive, '/proc/self/mountinfo'], root);
    expect(layers(root)).toHaveLength(1);
    const app = await ok(['run', '--rm', '--entrypoint', '/bin/cat', imgs.dockerArchive, '/proc/self/mountinfo'], root);
    // t-app is t-base plus one layer: one more entry, the base's reused.
    expect(layers(root)).toHaveLength(2);
    const [baseTree] = lowerdirs(base);
    const appTrees = lowerdirs(app);
    expect(appTrees).toHaveLength(2);
    expect(appTrees[1]).toBe(baseTree);
    expect(appTrees[0]!.startsWith(join(root, 'layers'))).toBe(true);
    expect(refs(root)).toEqual([]);
  });

  it("a container's layers survive the image's removal and a prune; they go once it is removed", async () => {
    const root = freshRoot();
    const id = (await ok(['run', '-d', '--name', 'img-held', '--entrypoint', '/bin/sh', imgs.dockerArchive, '-c', 'sleep 120'], root)).trim();
    try {
      expect(refs(root)).toEqual([`${id}.json`]);
      // The image goes as a racing rmi would have removed it: record and config (rmi
      // itself refuses while the container exists), then a prune.
      const [record] = readdirSync(join(root, 'images', 'records'));
      rmSync(join(root, 'images', 'records', record!));
      await ok(['image', 'prune'], root);
      expect(layers(root)).toHaveLength(2);
      expect(await ok(['exec', 'img-held', '/bin/cat', '/etc/f2'], root)).toBe('data\n');
    } finally {
      await ok(['rm', '-f', 'img-held'], root);
    }
    expect(refs(root)).toEqual([]);
    await ok(['image', 'prune'], root);
    expect(layers(root)).toEqual([]);
  });

  it('tsbox killed (SIGKILL) while its container runs: gc gives the layer reference back', async () => {
    const root = freshRoot();
    const child = spawn(TSBOX_BIN, ['run', '--entrypoint', '/bin/sh', imgs.dockerArchive, '-c', 'echo up; sleep 120'], { env: { ...process.env, TSBOX_ROOT: root }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(() => out.includes('up'), 60_000, 'the container to start');
    expect(refs(root)).toHaveLength(1);
    child.kill('SIGKILL');
    await exited;
    await ok(['gc'], root);
    expect(refs(root)).toEqual([]);
    expect(readdirSync(join(root, 'containers')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it("stop sends the image's StopSignal; inspect shows its labels under the user's", async () => {
    const root = freshRoot();
    await ok(['run', '-d', '--name', 'img-stop', '--label', 'team=user', stopArchive], root);
    try {
      let logs = '';
      const deadline = Date.now() + 60_000;
      while (!logs.includes('ready') && Date.now() < deadline) logs = await ok(['logs', 'img-stop'], root);
      expect(logs).toBe('ready\n');
      const [inspected] = JSON.parse(await ok(['inspect', 'img-stop'], root)) as { labels: Record<string, string> }[];
      expect(inspected!.labels).toEqual({ team: 'user', tier: 'base' });
      // SIGTERM would kill it (PID 1 sh has no handler for it, SIGKILL after 30 s would be 137).
      await ok(['stop', '-t', '30', 'img-stop'], root);
      expect(await ok(['logs', 'img-stop'], root)).toBe('ready\ngot-usr1\n');
      expect((await ok(['wait', 'img-stop'], root)).trim()).toBe('7');
    } finally {
      await ok(['rm', '-f', 'img-stop'], root);
    }
  });

  it("-P publishes the image's ExposedPorts (t-base: EXPOSE 8080/tcp) on a free host port", async () => {
    const root = freshRoot();
    await ok(['run', '-d', '--name', 'img-ports', '-P', '--entrypoint', '/bin/sh', imgs.baseArchive, '-c', 'sleep 60'], root);
    try {
      expect(await ok(['port', 'img-ports'], root)).toMatch(/^8080\/tcp -> 0\.0\.0\.0:[0-9]+\n$/);
    } finally {
      await ok(['rm', '-f', 'img-ports'], root);
    }
  });

  it('an image with nothing to run, --pull never of a missing image: one line, 125', async () => {
    const root = freshRoot();
    imgs.podman('import', join(imgs.dir, 'bb.tar'), 'localhost/t-nocmd:latest');
    const nocmd = join(work, 'nocmd.tar');
    imgs.podman('save', '--format', 'docker-archive', '-o', nocmd, 'localhost/t-nocmd:latest');
    const r = await tsbox(['run', '--rm', nocmd], { root });
    expect([r.code, r.stderr]).toEqual([125, "tsbox: image config: no command: the image has neither Entrypoint nor Cmd, and none was given. Give a command after the image, or --entrypoint.\n"]);
    const never = await tsbox(['run', '--rm', '--pull', 'never', 'localhost/t-absent:1'], { root });
    expect(never.code).toBe(125);
    expect(never.stderr).toMatch(/^tsbox: find image: no such image: localhost\/t-absent:1, and --pull never\. .*\n$/);
    // A missing file named like an archive is a missing file, not an image to pull.
    const missing = await tsbox(['run', '--rm', 'no-such-archive.tar', '/bin/true'], { root });
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/^tsbox: prepare rootfs: rootfs \S*no-such-archive\.tar: no such file or directory\. .*\n$/);
    // A stored image by name runs without any registry.
    expect(await ok(['run', '--rm', '--pull', 'never', 'localhost/t-nocmd', '/bin/echo', 'by-name'], root)).toBe('by-name\n');
  });
});
