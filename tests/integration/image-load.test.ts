/**
 * Loading the archives podman makes, in every format, into the layer store; the stacked
 * layers (mounted as overlay lowers, as the runtime will) against `podman export` of the
 * same image; layer sharing; warm loads that never open the archive.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { loadImage } from '../../src/image/oci/load.js';
import { mountPlanForImage } from '../../src/image/oci/mount-plan.js';
import { usePodmanImages, type PodmanImages } from '../helpers/podman-images.js';
import { snapshotTree } from '../helpers/image-tree.js';

let work: string;
let imgs: PodmanImages;
let expected: string;

usePodmanImages('tsbox-image-load-', (made) => {
  ({ work, imgs } = made);
  // What podman shows for the image: its container's filesystem, exported.
  expected = join(work, 'expected');
  execFileSync('mkdir', [expected]);
  const cid = imgs.podman('create', 'localhost/t-app:latest').trim();
  imgs.podman('export', '-o', join(work, 'export.tar'), cid);
  imgs.podman('rm', cid);
  execFileSync('tar', ['-C', expected, '--numeric-owner', '-xpf', join(work, 'export.tar')]);
}, 120_000);

const opts = (root: string) => ({ root, maxBytes: 1e9, log: silentLogger });

/** Mount the plan's lowers read-only and snapshot what a container would see. */
function stackedSnapshot(lowerDirs: string[]): ReturnType<typeof snapshotTree> {
  const mnt = mkdtempSync(join(work, 'mnt-'));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lowerDirs.join(':')},redirect_dir=nofollow,metacopy=off`, mnt]);
  try {
    return snapshotTree(mnt);
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true });
  }
}

/** The files podman export adds or empties for a container, not the image's. */
function comparable(snap: ReturnType<typeof snapshotTree>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(snap as Record<string, unknown>)) {
    if (/^(etc\/(hostname|hosts|resolv\.conf)|run|dev|proc|sys)(\/|$)/.test(k)) continue;
    const { mtimeNs, ...rest } = v as Record<string, unknown>;
    void mtimeNs;
    out.set(k, rest);
  }
  return out;
}

describe('every format podman saves', () => {
  // zstd:chunked is not among them: podman 4.3 cannot push it from its vfs store here; a
  // layer of that shape (several frames, a skippable frame, data past the tar end) is made by
  // hand in image-hostile-layers.test.ts.
  for (const which of ['dockerArchive', 'ociArchive', 'ociDir', 'dockerDir', 'ociZstd'] as const) {
    it(`${which}: the stacked layers are the image podman runs`, async () => {
      const archive = imgs[which];
      if (archive === null) throw new Error(`podman could not write the ${which} test image`);
      const root = mkdtempSync(join(work, 'state-'));
      const res = await loadImage(archive, opts(root));
      expect(res.kind).toBe('image');
      if (res.kind !== 'image') return;
      expect(res.record.diffIds).toHaveLength(2);
      const plan = await mountPlanForImage(root, res.record);
      const got = comparable(stackedSnapshot(plan.lowerDirs));
      const want = comparable(snapshotTree(expected));
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) expect(got.get(k), k).toEqual(v);
      expect(got.has('etc/motd')).toBe(false);
      // the same image flattened into one tree (what >500 layers get) shows the same files
      const { flattenedTree } = await import('../../src/image/oci/flatten.js');
      const flat = comparable(snapshotTree(await flattenedTree(root, res.record)));
      for (const [k, v] of want) expect(flat.get(k), `flat ${k}`).toEqual(v);
      expect([...flat.keys()].sort()).toEqual([...want.keys()].sort());
      expect(got.has('usr/share/doc/demo/old')).toBe(false);
      expect(got.has('usr/share/doc/demo/new')).toBe(true);
    });
  }
});

describe('tsbox save', () => {
  it('writes a docker-archive podman loads, whose container has the same files', async () => {
    const root = mkdtempSync(join(work, 'state-'));
    const res = await loadImage(imgs.ociArchive, opts(root));
    if (res.kind !== 'image') throw new Error('not an image');
    const saved = join(work, 'saved.tar');
    const r = spawnSync(join(__dirname, '../../bin/tsbox'), ['save', '--root', root, '-o', saved, 'localhost/t-app:latest'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // into a second, empty podman storage
    const other = join(work, 'podman2');
    const p2 = (...args: string[]) => execFileSync('podman', ['--root', join(other, 'root'), '--runroot', join(other, 'run'), '--tmpdir', join(other, 'tmp'), '--storage-driver', 'vfs', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    p2('load', '-i', saved);
    const cid = p2('create', 'localhost/t-app:latest').trim();
    p2('export', '-o', join(work, 'saved-export.tar'), cid);
    p2('rm', cid);
    const got = join(work, 'saved-export');
    execFileSync('mkdir', [got]);
    execFileSync('tar', ['-C', got, '--numeric-owner', '-xpf', join(work, 'saved-export.tar')]);
    const a = comparable(snapshotTree(got));
    const b = comparable(snapshotTree(expected));
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, v] of b) expect(a.get(k), k).toEqual(v);
    const inspect = JSON.parse(p2('image', 'inspect', 'localhost/t-app:latest')) as Array<{ Config: { Entrypoint: string[]; Cmd: string[]; Env: string[]; User: string; WorkingDir: string } }>;
    expect(inspect[0]!.Config).toMatchObject({ Entrypoint: ['/bin/echo'], Cmd: ['x'], User: '1000:1000', WorkingDir: '/work' });
    rmSync(other, { recursive: true, force: true });
  });
});

describe('the image config as podman reads it', () => {
  it("merges into the process podman would start (podman run cannot run on this host's hybrid cgroups: compared with podman image inspect)", async () => {
    const root = mkdtempSync(join(work, 'state-'));
    const res = await loadImage(imgs.dockerArchive, opts(root));
    if (res.kind !== 'image') throw new Error('not an image');
    const { readConfigBytes } = await import('../../src/image/oci/image-store.js');
    const { imageDefaultsFromConfig } = await import('../../src/image/oci/config-merge.js');
    const { mergeImageDefaults } = await import('../../src/spec/image-defaults.js');
    const { imageConfigSchema } = await import('../../src/image/oci/documents.js');
    const config = imageConfigSchema.parse(JSON.parse((await readConfigBytes(root, res.record.id)).toString()));
    const podman = (JSON.parse(imgs.podman('image', 'inspect', 'localhost/t-app:latest')) as Array<{ Id: string; Config: { Entrypoint: string[]; Cmd: string[]; Env: string[]; User: string; WorkingDir: string; ExposedPorts: Record<string, object> } }>)[0]!;
    expect(res.record.id).toBe(`sha256:${podman.Id}`);
    const { defaults } = imageDefaultsFromConfig(config);
    const d = mergeImageDefaults({ command: [], baseEnv: [], envFromFiles: [], envFromFlags: ['FOO=cli'] }, defaults);
    expect(d.args).toEqual([...podman.Config.Entrypoint, ...podman.Config.Cmd]);
    expect(d.user).toBe(podman.Config.User);
    expect(d.cwd).toBe(podman.Config.WorkingDir);
    expect(defaults.exposedPorts).toEqual(Object.keys(podman.Config.ExposedPorts));
    expect(d.env).toEqual(podman.Config.Env.map((e) => (e.startsWith('FOO=') ? 'FOO=cli' : e)));
  });
});

describe('several images, compressed archives, sharing', () => {
  it('multi-image archive: ARCHIVE:NAME picks; without a name, one line listing them; the shared base is extracted once', async () => {
    const root = mkdtempSync(join(work, 'state-'));
    const r = spawnSync(join(__dirname, '../../bin/tsbox'), ['load', '--root', root, '-i', imgs.multi], { encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^tsbox: load image: .*holds 2 images.*localhost\/t-base:latest, localhost\/t-app:latest\.\n$/);
    const base = await loadImage(`${imgs.multi}:t-base`, opts(root));
    const app = await loadImage(`${imgs.multi}:localhost/t-app:latest`, opts(root));
    if (base.kind !== 'image' || app.kind !== 'image') throw new Error('not images');
    expect(app.record.diffIds[0]).toBe(base.record.diffIds[0]);
    expect(app.bytesExtracted).toBe(app.layers[1]!.contentBytes); // only its own layer
    expect(base.bytesExtracted).toBeGreaterThan(1_000_000);
    const warm = await loadImage(`${imgs.multi}:t-base`, opts(root));
    expect(warm.kind === 'image' && warm.warm && warm.record.id === base.record.id).toBe(true);
  });

  for (const [what, program, args] of [['gzip', 'gzip', ['-c']], ['zstd', 'zstd', ['-q', '-c']], ['xz', 'xz', ['-c', '-1']]] as const) {
    it(`a docker-archive compressed as a whole with ${what}`, async () => {
      const root = mkdtempSync(join(work, 'state-'));
      const packed = join(work, `whole.${what}`);
      execFileSync('sh', ['-c', `${program} ${args.join(' ')} < "$1" > "$2"`, 'sh', imgs.dockerArchive, packed]);
      const res = await loadImage(packed, opts(root));
      expect(res.kind === 'image' && res.record.repoTags).toEqual(['localhost/t-app:latest']);
      expect(readdirSync(join(root, 'rootfs')).filter((n) => n.startsWith('.tmp-'))).toEqual([]); // the spool is gone
    });
  }

  it('a rootfs tarball is not an image: left to the rootfs path', async () => {
    const res = await loadImage(join(imgs.dir, 'bb.tar'), opts(mkdtempSync(join(work, 'state-'))));
    expect(res.kind).toBe('rootfs');
  });
});
