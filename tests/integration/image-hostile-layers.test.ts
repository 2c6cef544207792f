/**
 * Hostile images, made byte by byte: each fails with one line and exit 125 from
 * `tsbox load`, writes nothing outside the store, and leaves the store usable (a normal
 * load works right after). Plus: layers shared between images are extracted once, and a
 * warm load never opens the archive.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompress } from '../helpers/zstd.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { tarArchive, type TarEntry } from '../helpers/image-tar.js';
import { lgetxattr } from '../../src/sys/fs.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let work: string;
let root: string;
let victim: string;
const bin = join(__dirname, '../../bin/tsbox');

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tsbox-img-hostile-'));
  root = join(work, 'state');
  victim = join(work, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'keep'), 'keep');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Img {
  layers: Buffer[]; // tar bytes as stored in the archive
  diffIds?: string[]; // default: sha of each (uncompressed) layer
  config?: object;
  tags?: string[];
}

/** A docker-archive with the manifest LAST, as podman writes it. */
function dockerArchive(name: string, img: Img): string {
  const diffIds = img.diffIds ?? img.layers.map((l) => `sha256:${sha(l)}`);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, ...img.config, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const entries: TarEntry[] = img.layers.map((l, i) => ({ name: `layer${i}.tar`, data: l }));
  entries.push({ name: `${sha(config)}.json`, data: config });
  entries.push({ name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: img.tags ?? [`localhost/${name}:latest`], Layers: img.layers.map((_, i) => `layer${i}.tar`) }]) });
  const path = join(work, `${name}.tar`);
  writeFileSync(path, tarArchive(entries));
  return path;
}

const base = (): Buffer =>
  tarArchive([
    { name: 'etc/', type: '5', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0::/:/bin/sh\n' },
    { name: 'etc/keep', data: 'k' },
    { name: 'tmp/', type: '5', mode: 0o1777 },
    { name: 'lnk', type: '2', linkname: victim },
  ]);

function load(archive: string): { status: number | null; stderr: string } {
  const r = spawnSync(bin, ['load', '--root', root, '-i', archive], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr };
}

function storeIsConsistent(): void {
  const r = load(dockerArchive(`ok-${Math.random().toString(36).slice(2)}`, { layers: [base()] }));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(readdirSync(victim)).toEqual(['keep']);
  expect(readdirSync(join(root, 'rootfs')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
}

const hostile: Array<[string, () => string, RegExp]> = [
  ['a layer member with ..', () => dockerArchive('dotdot', { layers: [tarArchive([{ name: '../../escape', data: 'x' }])] }), /"\.\.\/\.\.\/escape": name contains a "\.\." component/],
  ['a PAX path with ..', () => dockerArchive('pax-dotdot', { layers: [tarArchive([{ name: 'innocent', pax: [['path', 'a/../../escape']], data: 'x' }])] }), /name contains a "\.\." component/],
  ['a GNU long name with ..', () => dockerArchive('gnu-dotdot', { layers: [tarArchive([{ name: `${'d/'.repeat(60)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../escape`, gnuLongNames: true, data: 'x' }])] }), /name contains a "\.\." component/],
  ['a hard link target with ..', () => dockerArchive('hl-dotdot', { layers: [tarArchive([{ name: 'x', type: '1', linkname: '../../etc/passwd' }])] }), /hard link target: name contains a "\.\." component/],
  ['a PAX linkpath with .. on a hard link', () => dockerArchive('hl-pax', { layers: [tarArchive([{ name: 'x', type: '1', linkname: 'ok', pax: [['linkpath', '../../../etc/shadow']] }])] }), /hard link target/],
  ['a whiteout of ..', () => dockerArchive('wh-dotdot', { layers: [base(), tarArchive([{ name: 'etc/.wh..', data: '' }])] }), /names no file of its directory/],
  ['a bare whiteout', () => dockerArchive('wh-bare', { layers: [base(), tarArchive([{ name: 'etc/.wh.', data: '' }])] }), /names no file of its directory/],
  ['a whiteout of the layer root', () => dockerArchive('wh-root', { layers: [base(), tarArchive([{ name: '.wh..wh..opq', data: '' }])] }), /opaque whiteout on the layer root/],
  ['an opaque marker below a symlink to the host', () => dockerArchive('opq-sym', { layers: [tarArchive([{ name: 'lnk', type: '2', linkname: victim }, { name: 'lnk/.wh..wh..opq', data: '' }])] }), /goes through a symlink/],
  ['a whiteout below a symlink to the host', () => dockerArchive('wh-sym', { layers: [tarArchive([{ name: 'lnk', type: '2', linkname: victim }, { name: 'lnk/.wh.keep', data: '' }])] }), /goes through a symlink/],
  ['a hard link through a symlink', () => dockerArchive('hl-sym', { layers: [tarArchive([{ name: 'lnk', type: '2', linkname: victim }, { name: 'x', type: '1', linkname: 'lnk/keep' }])] }), /goes through a symlink/],
  ['a "." entry that is a symlink', () => dockerArchive('dot-sym', { layers: [tarArchive([{ name: './', type: '2', linkname: victim }])] }), /would replace the root directory/],
  ['an overlay xattr', () => dockerArchive('ovl-xattr', { layers: [tarArchive([{ name: 'd/', type: '5', pax: [['SCHILY.xattr.trusted.overlay.redirect', '/etc']] }])] }), /overlay xattr/],
  ['a diff_id that lies', () => dockerArchive('lie-diff', { layers: [base()], diffIds: [`sha256:${'0'.repeat(64)}`] }), /do not match the config's diff_id/],
  ['a digest string that is a path', () => dockerArchive('digest-path', { layers: [base()], diffIds: ['sha256:../../../etc'] }), /not a sha256 digest/],
  ['an absurd uid in the config', () => dockerArchive('uid', { layers: [base()], config: { config: { User: '4294967296' } } }), /User "4294967296" has an id above/],
  ['a gzip bomb', () => dockerArchive('gzbomb', { layers: [gzipSync(Buffer.alloc(64 * 1024 * 1024))] }), /expands to more than|diff_id/],
];

describe('hostile images: one line, 125, nothing outside, store still usable', () => {
  for (const [what, make, message] of hostile) {
    it(what, () => {
      const r = load(make());
      expect(r.status).toBe(125);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^tsbox: /);
      if (message !== null) expect(r.stderr).toMatch(message);
      storeIsConsistent();
    });
  }

  it("docker-archive pieces named outside the archive (.., absolute symlinks, the host's files)", () => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'4'.repeat(64)}`] } }));
    const cfg = `${sha(config)}.json`;
    for (const [name, layerName, extra] of [
      ['da-dotdot', '../../../etc/passwd', []],
      ['da-abs-link', 'x/layer.tar', [{ name: 'x/layer.tar', type: '2', linkname: '/etc/passwd' }]],
      ['da-up-link', 'x/layer.tar', [{ name: 'x/layer.tar', type: '2', linkname: '../../etc/passwd' }]],
      ['da-loop', 'a.tar', [{ name: 'a.tar', type: '2', linkname: 'b.tar' }, { name: 'b.tar', type: '2', linkname: 'a.tar' }]],
    ] as Array<[string, string, TarEntry[]]>) {
      const path = join(work, `${name}.tar`);
      writeFileSync(path, tarArchive([{ name: cfg, data: config }, ...extra, { name: 'manifest.json', data: JSON.stringify([{ Config: cfg, RepoTags: [`localhost/${name}:latest`], Layers: [layerName] }]) }]));
      const r = load(path);
      expect(r.status, name).toBe(125);
      expect(r.stderr, name).toMatch(/is missing from the archive/);
    }
    storeIsConsistent();
  });

  it('a layer blob whose bytes do not match its digest (same size)', () => {
    const plain = tarArchive([{ name: 'digest-lie', data: 'd' }]);
    const layer = gzipSync(plain);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(plain)}`] } }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'3'.repeat(64)}`, size: layer.length }] }));
    const dir = join(work, 'oci-digest-lie');
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    for (const b of [config, manifest]) writeFileSync(join(dir, 'blobs/sha256', sha(b)), b);
    writeFileSync(join(dir, 'blobs/sha256', '3'.repeat(64)), layer);
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length }] }));
    const r = load(dir);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/do not match its digest/);
    expect(existsSync(join(root, 'layers', sha(plain)))).toBe(false); // never published
    storeIsConsistent();
  });

  it('a manifest lying about a blob size (OCI layout)', () => {
    const layer = gzipSync(base());
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(base())}`] } }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(layer)}`, size: layer.length + 1 }] }));
    const dir = join(work, 'oci-lie');
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    for (const b of [layer, config, manifest]) writeFileSync(join(dir, 'blobs/sha256', sha(b)), b);
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length }] }));
    const r = load(dir);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/the manifest says/);
    storeIsConsistent();
  });
});

describe('flattening', () => {
  it('a hard link into a lower layer: loaded, and the image is flattened with the link in place', async () => {
    const { loadImage } = await import('../../src/image/oci/load.js');
    const { mountPlanForImage } = await import('../../src/image/oci/mount-plan.js');
    const { silentLogger } = await import('../../src/log.js');
    const res = await loadImage(dockerArchive('hl-lower', { layers: [base(), tarArchive([{ name: 'etc/', type: '5', mode: 0o755 }, { name: 'etc/hl', type: '1', linkname: 'etc/keep' }])] }), { root, maxBytes: 1e9, log: silentLogger });
    if (res.kind !== 'image') throw new Error('not an image');
    const plan = await mountPlanForImage(root, res.record);
    expect(plan.flattened).toMatch(/hard-links files of the layers below/);
    expect(plan.lowerDirs).toHaveLength(1);
    const flat = plan.lowerDirs[0]!;
    expect(lstatSync(join(flat, 'etc/hl')).ino).toBe(lstatSync(join(flat, 'etc/keep')).ino);
    expect(lstatSync(join(flat, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(spawnSync(bin, ['rmi', '--root', root, 'hl-lower'], { encoding: 'utf8' }).status).toBe(0);
    expect(existsSync(flat)).toBe(false);
  });

  it('501 layers: flattened, whiteouts and opaque directories applied in order', async () => {
    const { loadImage } = await import('../../src/image/oci/load.js');
    const { mountPlanForImage } = await import('../../src/image/oci/mount-plan.js');
    const { silentLogger } = await import('../../src/log.js');
    const layers = [base(), tarArchive([{ name: 'gone/', type: '5' }, { name: 'gone/x', data: 'x' }, { name: 'opq/', type: '5' }, { name: 'opq/old', data: 'o' }])];
    for (let i = 2; i < 500; i++) layers.push(tarArchive([{ name: `l/`, type: '5', mode: 0o755 }, { name: `l/f${i}`, data: String(i) }]));
    layers.push(tarArchive([{ name: '.wh.gone', data: '' }, { name: 'opq/', type: '5', mode: 0o755 }, { name: 'opq/.wh..wh..opq', data: '' }, { name: 'opq/new', data: 'n' }, { name: 'l/', type: '5', mode: 0o755 }, { name: 'l/.wh.f7', data: '' }]));
    const res = await loadImage(dockerArchive('many', { layers }), { root, maxBytes: 1e9, log: silentLogger });
    if (res.kind !== 'image') throw new Error('not an image');
    expect(res.record.layerKeys).toHaveLength(501);
    const plan = await mountPlanForImage(root, res.record);
    expect(plan.flattened).toMatch(/501 layers/);
    const flat = plan.lowerDirs[0]!;
    expect(existsSync(join(flat, 'gone'))).toBe(false);
    expect(readdirSync(join(flat, 'opq'))).toEqual(['new']);
    expect(readdirSync(join(flat, 'l'))).toHaveLength(497);
    expect(existsSync(join(flat, 'l/f7'))).toBe(false);
    expect(existsSync(join(flat, 'etc/keep'))).toBe(true);
    // no whiteout device and no overlay xattr survives in a flattened tree
    expect(lstatSync(join(flat, 'opq')).isDirectory()).toBe(true);
    expect(() => lgetxattr(join(flat, 'opq'), 'trusted.overlay.opaque')).toThrow();
  }, 120_000);
});

describe('layers', () => {
  it("a layer's directory shadows a lower layer's symlink to the host: nothing written outside", () => {
    expect(load(dockerArchive('through', { layers: [base(), tarArchive([{ name: 'lnk/pwned', data: 'x' }])] }))).toEqual({ status: 0, stderr: '' });
    expect(readdirSync(victim)).toEqual(['keep']);
  });

  it('whiteouts and opaque directories become overlay whiteouts; same-layer entries stay', () => {
    const r = load(dockerArchive('wh', { layers: [base(), tarArchive([{ name: 'etc/.wh.keep', data: '' }, { name: 'tmp/.wh..wh..opq', data: '' }, { name: 'tmp/new', data: 'n' }, { name: 'etc/.wh.passwd', data: '' }, { name: 'etc/passwd', data: 'p' }, { name: 'dev/sda', type: '4', devmajor: 8, devminor: 0 }])] }));
    expect(r.stderr).toBe('');
    const top = readdirSync(join(root, 'layers')).map((h) => join(root, 'layers', h, 'tree')).find((t) => existsSync(join(t, 'tmp/new')))!;
    const wh = lstatSync(join(top, 'etc/keep'));
    expect([wh.isCharacterDevice(), wh.rdev]).toEqual([true, 0]);
    expect(lstatSync(join(top, 'etc/passwd')).isFile()).toBe(true);
    expect(lgetxattr(join(top, 'tmp'), 'trusted.overlay.opaque').toString()).toBe('y');
    expect(existsSync(join(top, 'dev/sda'))).toBe(false);
  });

  it("a layer's unlisted parent directories keep the lower layer's owner and mode (/tmp stays 1777), per base", async () => {
    const { loadImage } = await import('../../src/image/oci/load.js');
    const { silentLogger } = await import('../../src/log.js');
    const opts = { root, maxBytes: 1e9, log: silentLogger };
    const top = tarArchive([{ name: 'tmp/x', data: 'x' }]);
    const other = tarArchive([{ name: 'tmp/', type: '5', mode: 0o700, uid: 5, gid: 6 }]);
    const a = await loadImage(dockerArchive('implicit-a', { layers: [base(), top] }), opts);
    const b = await loadImage(dockerArchive('implicit-b', { layers: [other, top] }), opts);
    if (a.kind !== 'image' || b.kind !== 'image') throw new Error('not images');
    const st = (t: string) => lstatSync(join(t, 'tmp'));
    expect([st(a.layers[1]!.tree).mode & 0o7777, st(a.layers[1]!.tree).uid]).toEqual([0o1777, 0]);
    expect([st(b.layers[1]!.tree).mode & 0o7777, st(b.layers[1]!.tree).uid, st(b.layers[1]!.tree).gid]).toEqual([0o700, 5, 6]);
    expect(a.layers[1]!.key).not.toBe(b.layers[1]!.key);
    // a directory name that is not UTF-8 inherits too (names are bytes)
    const raw = Buffer.from([0x64, 0xff, 0x2f]).toString('latin1'); // "d\xff/"
    const lowerDir = tarArchive([{ name: `${raw}`, type: '5', mode: 0o711, uid: 7, byteNames: true }]);
    const upper = tarArchive([{ name: `${raw}f`, data: 'f', byteNames: true }]);
    const c = await loadImage(dockerArchive('implicit-bytes', { layers: [lowerDir, upper] }), opts);
    if (c.kind !== 'image') throw new Error('not an image');
    const dirPath = Buffer.concat([Buffer.from(`${c.layers[1]!.tree}/`), Buffer.from([0x64, 0xff])]);
    expect([lstatSync(dirPath).mode & 0o7777, lstatSync(dirPath).uid]).toEqual([0o711, 7]);
    expect(a.layers[1]!.diffId).toBe(b.layers[1]!.diffId);
  });

  it('two images sharing a base extract it once (bytes written), and rmi keeps the shared layer', async () => {
    const big = tarArchive([{ name: 'big', data: Buffer.alloc(8 * 1024 * 1024, 1) }]);
    const a = dockerArchive('share-a', { layers: [big, tarArchive([{ name: 'a', data: 'a' }])] });
    const b = dockerArchive('share-b', { layers: [big, tarArchive([{ name: 'b', data: 'b' }])] });
    const { loadImage } = await import('../../src/image/oci/load.js');
    const { silentLogger } = await import('../../src/log.js');
    const opts = { root, maxBytes: 1e9, log: silentLogger };
    const ra = await loadImage(a, opts);
    const rb = await loadImage(b, opts);
    if (ra.kind !== 'image' || rb.kind !== 'image') throw new Error('not images');
    expect(ra.bytesExtracted).toBe(8 * 1024 * 1024 + 1);
    expect(rb.bytesExtracted).toBe(1);
    expect(spawnSync(bin, ['rmi', '--root', root, 'share-a'], { encoding: 'utf8' }).status).toBe(0);
    expect(existsSync(join(root, 'layers', sha(big), 'tree/big'))).toBe(true);
    // a warm load does not open the archive: make it unreadable by content, keep its stat
    const warm = await loadImage(b, opts);
    expect(warm.kind === 'image' && warm.warm).toBe(true);
  });

  it('zstd:chunked-like layer: several frames, a skippable frame, data past the tar end: the diff_id covers it all', () => {
    const tarBytes = tarArchive([{ name: 'chunked-only', data: 'c' }]); // a layer the store does not have yet
    const extra = Buffer.from('{"toc":"data after the end-of-archive marker"}');
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([8, 0, 0, 0]), Buffer.alloc(8, 7)]);
    const layer = Buffer.concat([zstdCompress(tarBytes.subarray(0, 1024)), zstdCompress(tarBytes.subarray(1024)), skippable, zstdCompress(extra)]);
    const everything = Buffer.concat([tarBytes, extra]);
    const make = (name: string, diffId: string): string => {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }));
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: `sha256:${sha(layer)}`, size: layer.length }] }));
      const dir = join(work, name);
      mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
      for (const bl of [layer, config, manifest]) writeFileSync(join(dir, 'blobs/sha256', sha(bl)), bl);
      writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length }] }));
      return dir;
    };
    const toMarker = load(make('chunked-short', `sha256:${sha(tarBytes)}`));
    expect(toMarker.status).toBe(125);
    expect(toMarker.stderr).toMatch(/diff_id/);
    expect(load(make('chunked', `sha256:${sha(everything)}`))).toEqual({ status: 0, stderr: '' });
  });

  it('a non-distributable layer whose blob is missing: refused, its URLs never fetched', () => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`] } }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: `sha256:${'2'.repeat(64)}`, size: 10, urls: ['http://127.0.0.1:9/never'] }] }));
    const dir = join(work, 'foreign');
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    for (const bl of [config, manifest]) writeFileSync(join(dir, 'blobs/sha256', sha(bl)), bl);
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length }] }));
    const r = load(dir);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/missing from the archive \(a non-distributable layer: tsbox never fetches its URLs\)/);
  });

  it('a warm load does not open the archive (strace)', () => {
    const archive = dockerArchive('warm', { layers: [base()] });
    expect(load(archive).status).toBe(0);
    const r = spawnSync('strace', ['-f', '-e', 'trace=open,openat,openat2', '-o', join(work, 'trace'), bin, 'load', '--root', root, '-i', archive], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const opened = execFileSync('cat', [join(work, 'trace')], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(archive) && !l.includes('ENOENT'));
    expect(opened).toEqual([]);
  });

  it('a zstd layer in an OCI layout, and a zstd-compressed docker-archive', () => {
    const plain = base();
    const layer = zstdCompress(plain);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(plain)}`] } }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: `sha256:${sha(layer)}`, size: layer.length }] }));
    const dir = join(work, 'oci-zstd');
    mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
    for (const bl of [layer, config, manifest]) writeFileSync(join(dir, 'blobs/sha256', sha(bl)), bl);
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length }] }));
    expect(load(dir)).toEqual({ status: 0, stderr: '' });
    const whole = join(work, 'whole.tar.zst');
    writeFileSync(whole, zstdCompress(Buffer.from(execFileSync('cat', [dockerArchive('zwhole', { layers: [base()] })]))));
    expect(load(whole)).toEqual({ status: 0, stderr: '' });
    // a corrupt zstd layer: one line
    const bad = Buffer.from(layer);
    bad[bad.length - 3] ^= 0xff;
    writeFileSync(join(dir, 'blobs/sha256', sha(layer)), bad);
    rmSync(join(root, 'layers', sha(plain)), { recursive: true, force: true });
    const r = load(dir);
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    chmodSync(dir, 0o755);
  });
});

describe('a load killed with SIGKILL', () => {
  it('leaves nothing the next command cannot reclaim; the store stays usable', async () => {
    const many: TarEntry[] = [{ name: 'd/', type: '5', mode: 0o755 }];
    for (let i = 0; i < 40_000; i++) many.push({ name: `d/f${i}`, data: 'x' });
    const archive = dockerArchive('killed', { layers: [tarArchive(many)] });
    const child = spawn(bin, ['load', '--root', root, '-i', archive], { stdio: 'ignore' });
    const rootfs = join(root, 'rootfs');
    // Wait until the extraction is under way (files in its temp tree), then kill it.
    for (;;) {
      const temps = existsSync(rootfs) ? readdirSync(rootfs).filter((n) => n.startsWith('.tmp-') && !n.endsWith('.lock')) : [];
      if (temps.some((t) => existsSync(join(rootfs, t, 'tree/d/f100')))) break;
      if (child.exitCode !== null) throw new Error('the load finished before it could be killed');
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(readdirSync(rootfs).filter((n) => n.startsWith('.tmp-')).length).toBeGreaterThan(0);
    expect(readdirSync(join(root, 'images/refs')).some((n) => n.startsWith('load-'))).toBe(true);
    storeIsConsistent(); // a normal load works, and reclaimed the temp dir
    const prune = spawnSync(bin, ['image', 'prune', '--root', root], { encoding: 'utf8' });
    expect(prune.status).toBe(0);
    expect(readdirSync(join(root, 'images/refs')).filter((n) => n.startsWith('load-'))).toEqual([]);
    expect(load(archive)).toEqual({ status: 0, stderr: '' });
  });
});
