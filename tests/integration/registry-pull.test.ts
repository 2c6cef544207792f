/**
 * tsbox pull against Debian's docker-registry on 127.0.0.1 (started here, stopped in
 * afterAll): docker schema 2, OCI, a manifest list, zstd layers, pulls by digest; a
 * corrupted blob in the registry's storage; a pull killed (SIGKILL) or interrupted
 * (SIGINT) midway through a throttled transfer, then resumed with a Range request.
 * Images are made here with podman (isolated vfs storage) and skopeo; nothing comes from
 * the internet.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync, copyFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podman, sh, skopeo, startRegistry, type LocalRegistry } from '../helpers/registry.js';
import { tsbox } from '../helpers/tsbox.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let work: string;
let registry: LocalRegistry;
let pm: ReturnType<typeof podman>;

/** A rootfs tar with busybox and some distinct content (a different layer per image). */
function makeRootfsTar(name: string, extraBytes = 0): string {
  const dir = join(work, `rootfs-${name}`);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  writeFileSync(join(dir, 'etc', 'image-name'), `${name}\n`);
  // Random bytes do not compress: the layer stays as large as asked, for the throttled tests.
  if (extraBytes > 0) writeFileSync(join(dir, 'payload'), randomBytes(extraBytes));
  return join(work, `${name}.tar`);
}

async function importImage(name: string, extraBytes = 0): Promise<string> {
  const tar = makeRootfsTar(name, extraBytes);
  await sh('tar', ['-C', join(work, `rootfs-${name}`), '-cf', tar, '.']);
  await pm('import', '--change', 'CMD ["/bin/busybox","sh"]', tar, `localhost/t-${name}:latest`);
  return `localhost/t-${name}:latest`;
}

function pullRoot(): string {
  return mkdtempSync(join(work, 'state-'));
}

async function rawManifest(ref: string): Promise<Buffer> {
  return Buffer.from(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${ref}`) + '', 'utf8');
}

/**
 * What a pull leaves: the documents (manifest, config) kept under blobs/sha256, each hashing
 * to its name; every layer extracted in the layer store under its diff_id; the compressed
 * layer blobs not kept (the trees are the store's copy), nothing left under incoming/.
 */
function checkStore(root: string, manifestDigest: string): { mediaTypes: string[] } {
  const dir = join(root, 'blobs', 'sha256');
  for (const name of readdirSync(dir)) expect(sha256(readFileSync(join(dir, name)))).toBe(`sha256:${name}`);
  const manifest = JSON.parse(readFileSync(join(dir, manifestDigest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
  expect(existsSync(join(dir, manifest.config.digest.slice(7)))).toBe(true);
  const config = JSON.parse(readFileSync(join(dir, manifest.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
  for (const l of manifest.layers) expect(existsSync(join(dir, l.digest.slice(7)))).toBe(false);
  for (const id of config.rootfs.diff_ids) expect(existsSync(join(root, 'layers', id.slice(7), 'layer.json'))).toBe(true);
  const incoming = join(root, 'blobs', 'incoming');
  expect(existsSync(incoming) ? readdirSync(incoming) : []).toEqual([]);
  return { mediaTypes: manifest.layers.map((l) => l.mediaType) };
}

beforeAll(async () => {
  work = mkdtempSync('/var/tmp/tsbox-registry-test-');
  pm = podman(join(work, 'podman'));
  registry = await startRegistry(join(work, 'registry'));
  const base = await importImage('base');
  const other = await importImage('other');
  await pm('push', '--tls-verify=false', '--format', 'v2s2', base, `${registry.host}/t/app:v2s2`);
  await pm('push', '--tls-verify=false', '--format', 'oci', base, `${registry.host}/t/app:oci`);
  await pm('manifest', 'create', 'localhost/t-list:latest');
  await pm('manifest', 'add', 'localhost/t-list:latest', `containers-storage:${base}`);
  await pm('manifest', 'push', '--all', '--tls-verify=false', 'localhost/t-list:latest', `docker://${registry.host}/t/list:latest`);
  await pm('push', '--compression-format', 'zstd', other, `oci:${join(work, 'oci-zstd')}:latest`);
  await skopeo('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(work, 'oci-zstd')}:latest`, `docker://${registry.host}/t/zstd:latest`);
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('tsbox pull from a local docker-registry', () => {
  for (const tag of ['v2s2', 'oci']) {
    it(`pulls a ${tag} image: prints the manifest digest, stores the verified documents and the extracted layers`, async () => {
      const root = pullRoot();
      const r = await tsbox(['pull', `${registry.host}/t/app:${tag}`], { root });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const want = sha256(await rawManifest(`${registry.host}/t/app:${tag}`));
      expect(r.stdout.trim()).toBe(want);
      const { mediaTypes } = checkStore(root, want);
      expect(mediaTypes[0]).toMatch(tag === 'oci' ? /^application\/vnd\.oci\.image\.layer/ : /^application\/vnd\.docker\.image\.rootfs/);
      // A second pull finds every layer present and fetches nothing (same answer).
      const again = await tsbox(['pull', `${registry.host}/t/app:${tag}`], { root });
      expect([again.code, again.stdout]).toEqual([0, r.stdout]);
    });
  }

  it('pulls by digest (and refuses a digest the registry does not have)', async () => {
    const root = pullRoot();
    const digest = sha256(await rawManifest(`${registry.host}/t/app:oci`));
    const r = await tsbox(['pull', `${registry.host}/t/app@${digest}`], { root });
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, digest, '']);
    const missing = await tsbox(['pull', `${registry.host}/t/app@sha256:${'0'.repeat(64)}`], { root });
    expect(missing.code).toBe(125);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^tsbox: pull: manifest sha256:0+: 127\.0\.0\.1:\d+ answered 404/);
  });

  it('REF@digest already in the store: pull and run do not contact the registry (docker\'s behaviour)', async () => {
    // The registry is reached through a proxy that is then closed: its address refuses connections.
    const proxy = await throttlingProxy(registry.host, 1 << 30);
    const root = pullRoot();
    const digest = sha256(await rawManifest(`${registry.host}/t/app:v2s2`));
    const index = sha256(await rawManifest(`${registry.host}/t/list:latest`));
    const byDigest = `${proxy.host}/t/app@${digest}`;
    const byIndex = `${proxy.host}/t/list@${index}`;
    const first = await tsbox(['pull', byDigest], { root });
    expect([first.code, first.stdout.trim(), first.stderr]).toEqual([0, digest, '']);
    const list = await tsbox(['pull', byIndex], { root });
    expect([list.code, list.stderr]).toEqual([0, '']);
    await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
    proxy.server.closeAllConnections();
    // The same pulls again: answered from the store.
    const again = await tsbox(['pull', byDigest], { root });
    expect([again.code, again.stdout.trim(), again.stderr]).toEqual([0, digest, '']);
    const listAgain = await tsbox(['pull', byIndex], { root });
    expect([listAgain.code, listAgain.stdout, listAgain.stderr]).toEqual([0, list.stdout, '']);
    const run = await tsbox(['run', '--rm', byDigest, '/bin/busybox', 'cat', '/etc/image-name'], { root, timeoutMs: 60_000 });
    expect([run.code, run.stdout, run.stderr]).toEqual([0, 'base\n', '']);
    // A tag (mutable) or a digest not in the store does need the registry: it is down, one line.
    const tag = await tsbox(['pull', `${proxy.host}/t/app:v2s2`], { root });
    expect(tag.code).toBe(125);
    expect(tag.stderr.trim().split('\n')).toHaveLength(1);
    const other = await tsbox(['pull', `${proxy.host}/t/app@sha256:${'1'.repeat(64)}`], { root });
    expect(other.code).toBe(125);
    // Check that the test can fail: with a layer gone from the store, the digest is not "present".
    const m = JSON.parse(readFileSync(join(root, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { config: { digest: string } };
    const config = JSON.parse(readFileSync(join(root, 'blobs', 'sha256', m.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
    rmSync(join(root, 'layers', config.rootfs.diff_ids[0]!.slice(7)), { recursive: true });
    const gone = await tsbox(['pull', byDigest], { root });
    expect(gone.code).toBe(125);
  });

  it('chooses linux/amd64 from a manifest list', async () => {
    const root = pullRoot();
    const list = JSON.parse((await rawManifest(`${registry.host}/t/list:latest`)).toString()) as { manifests: { digest: string; platform: { architecture: string; os: string } }[] };
    const amd64 = list.manifests.find((m) => m.platform.os === 'linux' && m.platform.architecture === 'amd64');
    expect(amd64).toBeDefined();
    const r = await tsbox(['pull', `${registry.host}/t/list:latest`], { root });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.trim()).toBe(amd64!.digest);
    checkStore(root, amd64!.digest);
  });

  it('pulls zstd layers unchanged', async () => {
    const root = pullRoot();
    const r = await tsbox(['pull', `${registry.host}/t/zstd:latest`], { root });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const { mediaTypes } = checkStore(root, r.stdout.trim());
    expect(mediaTypes).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd']);
  });

  it('refuses a name that is not a reference and a repository that does not exist, in one line', async () => {
    const bad = await tsbox(['pull', `${registry.host}/T/App`], { root: pullRoot() });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^tsbox: parse reference: invalid reference format .*must be lowercase/);
    const none = await tsbox(['pull', `${registry.host}/t/nothing:latest`], { root: pullRoot() });
    expect(none.code).toBe(125);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/answered 404: NAME_UNKNOWN|MANIFEST_UNKNOWN/);
  });
});

describe('the API the image store uses', () => {
  it('resolve(ref) gives the manifest, the verified config and the layers; fetchBlob writes a verified file', async () => {
    const { resolve } = await import('../../src/registry/index.js');
    const image = await resolve(`${registry.host}/t/app:oci`);
    try {
      expect(image.manifestDigest).toBe(sha256(await rawManifest(`${registry.host}/t/app:oci`)));
      expect(sha256(image.config.bytes)).toBe(image.manifest.config.digest);
      expect(image.config.diffIds).toHaveLength(image.layers.length);
      const dest = join(mkdtempSync(join(work, 'api-')), 'layer');
      await image.fetchBlob(image.layers[0]!, dest);
      expect(sha256(readFileSync(dest))).toBe(image.layers[0]!.digest);
      expect(existsSync(`${dest}.partial`)).toBe(false);
    } finally {
      image.close();
    }
  });
});

describe('a corrupted blob in the registry storage', () => {
  it('fails with one line, exit 125, and stores nothing of it', async () => {
    await importImage('corrupt');
    await pm('push', '--tls-verify=false', '--format', 'oci', 'localhost/t-corrupt:latest', `${registry.host}/t/corrupt:latest`);
    const manifest = JSON.parse((await rawManifest(`${registry.host}/t/corrupt:latest`)).toString()) as { layers: { digest: string }[] };
    const hex = manifest.layers[0]!.digest.slice(7);
    const data = join(registry.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    // Flip one byte in the middle: same size, other content.
    const size = statSync(data).size;
    const fd = openSync(data, 'r+');
    const b = Buffer.alloc(1);
    const pos = Math.floor(size / 2);
    const { readSync } = await import('node:fs');
    readSync(fd, b, 0, 1, pos);
    writeSync(fd, Buffer.from([b[0]! ^ 0xff]), 0, 1, pos);
    closeSync(fd);
    const root = pullRoot();
    const r = await tsbox(['pull', `${registry.host}/t/corrupt:latest`], { root });
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^tsbox: pull: blob sha256:${hex}: digest mismatch`));
    expect(existsSync(join(root, 'blobs', 'sha256', hex))).toBe(false);
    expect(readdirSync(join(root, 'blobs', 'incoming'))).toEqual([]);
    // Streamed into the extraction, yet nothing committed: no layer, no temp dir left.
    expect(existsSync(join(root, 'layers')) ? readdirSync(join(root, 'layers')).filter((n) => !n.startsWith('.')) : []).toEqual([]);
    expect(readdirSync(join(root, 'rootfs')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    // The store is consistent: a sound image pulls into the same root.
    const ok = await tsbox(['pull', `${registry.host}/t/app:oci`], { root });
    expect([ok.code, ok.stderr]).toEqual([0, '']);
  });
});

/** A proxy in front of the registry that sends blob bodies slowly and records Range headers. */
function throttlingProxy(target: string, bytesPerTick: number): Promise<{ server: Server; host: string; ranges: string[]; blobs: { active: number; max: number } }> {
  const ranges: string[] = [];
  const blobs = { active: 0, max: 0 };
  const server = createServer((req, res) => {
    if (req.headers.range) ranges.push(String(req.headers.range));
    // Concurrent blob transfers: counted from the request until the proxy has handed over its
    // last byte (not until the socket closes, which may come after the client moved on).
    let counted = false;
    const done = () => {
      if (counted) blobs.active--;
      counted = false;
    };
    if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '')) {
      counted = true;
      blobs.max = Math.max(blobs.max, ++blobs.active);
      res.on('close', done);
    }
    const up = request({ host: '127.0.0.1', port: Number(target.split(':')[1]), path: req.url, method: req.method, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (!/\/blobs\/sha256:/.test(req.url ?? '') || req.method !== 'GET') {
        upRes.on('end', done);
        upRes.pipe(res);
        return;
      }
      upRes.pause();
      const tick = setInterval(() => {
        const chunk = upRes.read(bytesPerTick) ?? upRes.read();
        if (chunk) res.write(chunk);
        // Everything received from upstream and handed over: the transfer is done.
        if (upRes.complete && upRes.readableLength === 0) {
          clearInterval(tick);
          done();
          res.end();
        }
      }, 10);
      res.on('close', () => {
        clearInterval(tick);
        upRes.destroy();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as { port: number }).port}`, ranges, blobs })));
}

describe('an interrupted pull resumes', () => {
  let big: string;
  let layer: { digest: string; size: number };
  let proxy: Awaited<ReturnType<typeof throttlingProxy>>;

  beforeAll(async () => {
    await importImage('big', 8 << 20);
    big = `${registry.host}/t/big:latest`;
    await pm('push', '--tls-verify=false', '--format', 'oci', 'localhost/t-big:latest', big);
    const m = JSON.parse((await rawManifest(big)).toString()) as { layers: { digest: string; size: number }[] };
    layer = m.layers[0]!;
    // 64 KiB every 10 ms: about 6 MB/s, so an 8 MB layer takes more than a second.
    proxy = await throttlingProxy(registry.host, 64 << 10);
    // An image of 7 layers (the base and 6 COPYs of random data; COPY runs nothing).
    const ctx = join(work, 'multi');
    mkdirSync(ctx);
    let containerfile = 'FROM localhost/t-base:latest\n';
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(ctx, `f${i}`), randomBytes(1_500_000));
      containerfile += `COPY f${i} /f${i}\n`;
    }
    writeFileSync(join(ctx, 'Containerfile'), containerfile);
    await pm('build', '--network', 'none', '-t', 'localhost/t-multi:latest', ctx);
    await pm('push', '--tls-verify=false', 'localhost/t-multi:latest', `${registry.host}/t/multi:latest`);
  }, 120_000);

  afterAll(() => new Promise<void>((resolve) => (proxy ? proxy.server.close(() => resolve()) : resolve())));

  async function stopMidway(sig: NodeJS.Signals, root: string) {
    const partial = join(root, 'blobs', 'incoming', `sha256-${layer.digest.slice(7)}`);
    let child: import('node:child_process').ChildProcess | undefined;
    const result = tsbox(['pull', `${proxy.host}/t/big:latest`], { root, onSpawn: (c) => (child = c), timeoutMs: 60_000 });
    // Poll until a good part (but not all) of the layer is on disk, then stop the pull.
    for (;;) {
      const size = existsSync(partial) ? statSync(partial).size : 0;
      if (size > 1 << 20) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child!.kill(sig);
    const r = await result;
    const kept = statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(layer.size);
    expect(existsSync(join(root, 'blobs', 'sha256', layer.digest.slice(7)))).toBe(false);
    return { r, kept };
  }

  it('after SIGKILL: the next pull asks for the rest with a Range request', async () => {
    const root = pullRoot();
    const { r, kept } = await stopMidway('SIGKILL', root);
    expect(r.signal).toBe('SIGKILL');
    proxy.ranges.length = 0;
    const again = await tsbox(['pull', `${proxy.host}/t/big:latest`], { root, timeoutMs: 60_000 });
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(proxy.ranges.some((h) => Number(/^bytes=(\d+)-$/.exec(h)?.[1]) >= kept)).toBe(true);
    checkStore(root, again.stdout.trim());
  });

  it('after SIGKILL: image prune removes the abandoned partial download (a later pull starts over)', async () => {
    const root = pullRoot();
    await stopMidway('SIGKILL', root);
    const incoming = join(root, 'blobs', 'incoming');
    expect(readdirSync(incoming).filter((f) => !f.endsWith('.lock'))).toHaveLength(1);
    const prune = await tsbox(['image', 'prune'], { root });
    expect([prune.code, prune.stderr]).toEqual([0, '']);
    expect(prune.stdout).toContain('removed 1 partial download of interrupted pulls');
    expect(readdirSync(incoming)).toEqual([]);
    proxy.ranges.length = 0;
    const again = await tsbox(['pull', `${proxy.host}/t/big:latest`], { root, timeoutMs: 60_000 });
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(proxy.ranges).toEqual([]);
    checkStore(root, again.stdout.trim());
  });

  it('downloads the layers of a many-layer image in parallel, at most 3 at a time', async () => {
    const root = pullRoot();
    proxy.blobs.max = 0;
    const r = await tsbox(['pull', `${proxy.host}/t/multi:latest`], { root, timeoutMs: 60_000 });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const m = JSON.parse(readFileSync(join(root, 'blobs', 'sha256', r.stdout.trim().slice(7)), 'utf8')) as { layers: unknown[] };
    expect(m.layers).toHaveLength(7);
    checkStore(root, r.stdout.trim());
    expect(proxy.blobs.max).toBeGreaterThanOrEqual(2);
    expect(proxy.blobs.max).toBeLessThanOrEqual(3);
  });

  it('a partial file with wrong bytes (not from this registry) is detected and the blob fetched again', async () => {
    const root = pullRoot();
    const partial = join(root, 'blobs', 'incoming', `sha256-${layer.digest.slice(7)}`);
    mkdirSync(join(root, 'blobs', 'incoming'), { recursive: true });
    writeFileSync(partial, Buffer.alloc(layer.size >> 1, 0x55));
    proxy.ranges.length = 0;
    const r = await tsbox(['pull', `${proxy.host}/t/big:latest`], { root, timeoutMs: 60_000 });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(proxy.ranges).toContain(`bytes=${layer.size >> 1}-`);
    checkStore(root, r.stdout.trim());
  });

  it('two pulls of the same image into one root share the download and both succeed', async () => {
    const root = pullRoot();
    const [a, b] = await Promise.all([0, 1].map(() => tsbox(['pull', `${proxy.host}/t/big:latest`], { root, timeoutMs: 60_000 })));
    expect([a!.code, a!.stderr, b!.code, b!.stderr]).toEqual([0, '', 0, '']);
    expect(a!.stdout).toBe(b!.stdout);
    checkStore(root, a!.stdout.trim());
  });

  for (const [sig, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`after ${sig}: stops at once with ${status} and one line, keeps the partial`, async () => {
      const root = pullRoot();
      const { r } = await stopMidway(sig, root);
      expect(r.code).toBe(status);
      expect(r.stderr).toMatch(new RegExp(`^tsbox: pull: interrupted by ${sig}\\. Run the same pull again to resume`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      const again = await tsbox(['pull', `${proxy.host}/t/big:latest`], { root, timeoutMs: 60_000 });
      expect([again.code, again.stderr]).toEqual([0, '']);
      checkStore(root, again.stdout.trim());
    });
  }
});
