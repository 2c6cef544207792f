/**
 * A hostile registry: a fake one written here in Node (not docker-registry, which would not
 * lie), serving hand-made answers on 127.0.0.1. Each lie must end in one clear error and
 * nothing stored: sizes that lie both ways, digests that do not match, oversized documents,
 * ambiguous documents, a missing platform, a redirect that downgrades to another host.
 */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarArchive } from '../helpers/image-tar.js';
import { tsbox } from '../helpers/tsbox.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

type Answer = { status?: number; type?: string; body: Buffer | string; headers?: Record<string, string>; };
const routes = new Map<string, Answer>();
let server: Server;
let host: string;
let work: string;

function serve(res: ServerResponse, a: Answer) {
  const body = Buffer.isBuffer(a.body) ? a.body : Buffer.from(a.body);
  res.writeHead(a.status ?? 200, { 'content-type': a.type ?? 'application/octet-stream', 'content-length': String(body.length), ...a.headers });
  if (a.cut) {
    // Half the bytes (once they are on their way), then the connection dies.
    res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}

/** An image in repository `name`: one layer, a config with its diff_id, a manifest (all overridable). */
function image(name: string, opts: { layer?: Buffer; layerSize?: number; servedLayer?: Buffer; configDigest?: string; cutLayer?: boolean; manifestExtra?: Record<string, unknown> } = {}) {
  // By default a real layer (a pull extracts it into the layer store), named by its true diff_id.
  const tar = tarArchive([{ name: 'etc/', type: '5', mode: 0o755 }, { name: `etc/${name}`, data: `layer of ${name}\n`.repeat(1000) }]);
  const layer = opts.layer ?? gzipSync(tar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [opts.layer ? sha(`diff ${name}`) : sha(tar)] }, config: {} }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: opts.configDigest ?? sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: opts.layerSize ?? layer.length }],
    ...opts.manifestExtra,
  }));
  routes.set(`/v2/${name}/manifests/latest`, { type: OCI_MANIFEST, body: manifest });
  routes.set(`/v2/${name}/manifests/${sha(manifest)}`, { type: OCI_MANIFEST, body: manifest });
  routes.set(`/v2/${name}/blobs/${opts.configDigest ?? sha(config)}`, { body: config });
  routes.set(`/v2/${name}/blobs/${sha(layer)}`, { body: opts.servedLayer ?? layer, cut: opts.cutLayer });
  return { layer, manifest, config };
}

async function pullFails(ref: string, pattern: RegExp) {
  const root = mkdtempSync(join(work, 'state-'));
  const r = await tsbox(['pull', `${host}/${ref}`], { root });
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.code).toBe(125);
  // No verified blob of a lying image: only what was fully verified (the config) may be there, and nothing half-written.
  const blobs = join(root, 'blobs', 'sha256');
  return { root, stored: existsSync(blobs) ? readdirSync(blobs) : [] };
}

beforeAll(async () => {
  work = mkdtempSync('/var/tmp/tsbox-registry-hostile-');
  server = createServer((req, res) => {
    if (req.url === '/v2/') return serve(res, { type: 'application/json', body: '{}' });
    const a = routes.get(req.url ?? '');
    if (!a) return serve(res, { status: 404, type: 'application/json', body: JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }) });
    serve(res, a);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a hostile registry (fake, in Node)', () => {
  it('serves an honest image (the fake itself works)', async () => {
    const { manifest } = image('honest');
    const r = await tsbox(['pull', `${host}/honest`], { root: mkdtempSync(join(work, 'state-')) });
    expect([r.code, r.stderr, r.stdout.trim()]).toEqual([0, '', sha(manifest)]);
  });

  it('a layer longer than the manifest says', async () => {
    const { layer } = image('longer', { layerSize: 100 });
    const { stored } = await pullFails('longer', /sent more than the 100 bytes the manifest declares/);
    expect(stored).not.toContain(sha(layer).slice(7));
  });

  it('a layer whose bytes do not match its digest', async () => {
    const { layer } = image('swapped', { servedLayer: Buffer.from('x'.repeat(16000)) , layerSize: 16000 });
    const { stored, root } = await pullFails('swapped', /digest mismatch/);
    expect(stored).not.toContain(sha(layer).slice(7));
    expect(readdirSync(join(root, 'blobs', 'incoming')).filter((f) => !f.endsWith('.lock'))).toEqual([]);
  });

  // Streaming: the layer is extracted while it downloads, so both checks happen at the
  // stream's end, before the rename that would commit it. Each case leaves no layer and no
  // temp dir, and a sound image pulls into the same root afterwards.
  const nothingCommitted = async (root: string) => {
    const layers = join(root, 'layers');
    expect(existsSync(layers) ? readdirSync(layers).filter((n) => !n.startsWith('.')) : []).toEqual([]);
    expect(existsSync(join(root, 'rootfs')) ? readdirSync(join(root, 'rootfs')).filter((n) => n.startsWith('.tmp-')) : []).toEqual([]);
    const incoming = join(root, 'blobs', 'incoming');
    expect(existsSync(incoming) ? readdirSync(incoming).filter((f) => !f.endsWith('.lock')) : []).toEqual([]);
    image('honest');
    const ok = await tsbox(['pull', `${host}/honest`], { root });
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(readdirSync(layers).filter((n) => !n.startsWith('.'))).toHaveLength(1);
  };

  it('streaming: a layer that extracts to the right diff_id but whose blob digest differs is not committed', async () => {
    // The same tar, gzip's header mtime changed: same size, valid gzip, same files, other digest.
    const { layer } = image('regzipped');
    const served = Buffer.from(layer);
    served[4] = served[4]! ^ 0x01;
    image('regzipped', { servedLayer: served });
    const { root } = await pullFails('regzipped', new RegExp(`blob ${sha(layer)}: digest mismatch`));
    await nothingCommitted(root);
  });

  it('streaming: a layer whose blob digest matches but whose uncompressed bytes do not match the diff_id is not committed', async () => {
    const tar = tarArchive([{ name: 'etc/', type: '5', mode: 0o755 }, { name: 'etc/liar', data: 'not what the config says\n' }]);
    image('baddiff', { layer: gzipSync(tar) });
    const { root } = await pullFails('baddiff', /do not match the config's diff_id/);
    await nothingCommitted(root);
  });

  it('a connection that dies midway: retried, then a resumable error', async () => {
    // Random bytes: a layer that repeats itself (the default one does) can be put together
    // right by accident from the halves that each attempt receives.
    image('cut', { cutLayer: true, layer: randomBytes(64 * 1024) });
    const { root } = await pullFails('cut', /connection closed|aborted|socket hang up|ECONNRESET|run the pull again/i);
    expect(readdirSync(join(root, 'blobs', 'incoming')).length).toBeGreaterThan(0);
  });

  it('a config that does not match its digest', async () => {
    image('badconfig', { configDigest: sha('something else') });
    await pullFails('badconfig', /config sha256:[0-9a-f]{64}: .*(digest mismatch|bytes)/);
  });

  it('a tag whose manifest does not match the registry\'s Docker-Content-Digest', async () => {
    const { manifest } = image('lying-tag');
    routes.set('/v2/lying-tag/manifests/latest', { type: OCI_MANIFEST, body: manifest, headers: { 'docker-content-digest': sha('other') } });
    await pullFails('lying-tag', /digest mismatch: the registry says/);
  });

  it('a manifest pulled by digest that is not those bytes', async () => {
    const { manifest } = image('by-digest');
    const wanted = sha('another manifest');
    routes.set(`/v2/by-digest/manifests/${wanted}`, { type: OCI_MANIFEST, body: manifest });
    await pullFails(`by-digest@${wanted}`, /digest mismatch/);
  });

  it('an endless manifest is cut at 4 MiB', async () => {
    routes.set('/v2/huge/manifests/latest', { type: OCI_MANIFEST, body: Buffer.alloc(5 << 20, 0x20) });
    await pullFails('huge', /more than the 4194304/);
  });

  it('a document that is both a manifest and an index', async () => {
    image('both', { manifestExtra: { manifests: [] } });
    await pullFails('both', /both "manifests" and "layers"/);
  });

  it('an index without the host\'s platform lists what it has', async () => {
    const { manifest } = image('armonly');
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha(manifest), size: manifest.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] });
    routes.set('/v2/armonly/manifests/latest', { type: OCI_INDEX, body: index });
    await pullFails('armonly', /has no image for linux\/amd64\. It has: linux\/arm64\/v8/);
  });

  it('an index entry whose size lies', async () => {
    const { manifest } = image('indexsize');
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha(manifest), size: 10, platform: { os: 'linux', architecture: 'amd64' } }] });
    routes.set('/v2/indexsize/manifests/latest', { type: OCI_INDEX, body: index });
    await pullFails('indexsize', /bytes, more than the 10 allowed/);
  });

  it('a path-like digest in a manifest never becomes a path', async () => {
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:../../../../etc/passwd', size: 10 }, layers: [] });
    routes.set('/v2/pathdigest/manifests/latest', { type: OCI_MANIFEST, body: manifest });
    await pullFails('pathdigest', /invalid digest/);
  });
});
