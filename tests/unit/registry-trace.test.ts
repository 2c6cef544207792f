/**
 * What the registry client reports to --debug/--explain (registry/trace.ts), against a tiny
 * registry on 127.0.0.1 in this process: the token dance, the documents with their digests
 * and how each was checked, the blob; and a blob with other bytes is refused, not reported.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBlob } from '../../src/registry/fetch-blob.js';
import { resolveImage } from '../../src/registry/resolve.js';
import { RegistrySession } from '../../src/registry/session.js';
import type { PullStep } from '../../src/registry/trace.js';
import { scratchDirs } from '../helpers/scratch.js';

const scratch = scratchDirs();

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const layer = Buffer.from('layer bytes, not really a tar');
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(Buffer.from('x'))] } }));
const manifest = Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
}));

let server: Server;
let host: string;
let tamper = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') return res.end(JSON.stringify({ token: 'tok' }));
    if (req.headers.authorization !== 'Bearer tok') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${host}/token",service="test"` });
      return res.end();
    }
    if (url.pathname === '/v2/t/app/manifests/v1') {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Docker-Content-Digest': sha(manifest) });
      return res.end(manifest);
    }
    if (url.pathname === `/v2/t/app/blobs/${sha(config)}`) return res.end(config);
    if (url.pathname === `/v2/t/app/blobs/${sha(layer)}`) return res.end(tamper ? Buffer.from(layer.toString().toUpperCase()) : layer);
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the pull trace', () => {
  it('names the token dance, each document with its digest and check, and the blob', async () => {
    const lines: [PullStep, string][] = [];
    const session = new RegistrySession(host, 't/app', { trace: (step, msg) => lines.push([step, msg]) });
    try {
      const image = await resolveImage(session, { domain: host, path: 't/app', tag: 'v1', digest: undefined });
      await fetchBlob(session, image.layers[0]!, join(scratch('tsbox-trace-'), 'blob'));
    } finally {
      session.close();
    }
    expect(lines).toEqual([
      ['contact registry', `GET http://${host}/v2/ = 401 over plain HTTP: bearer authentication asked (token realm http://${host}/token)`],
      ['get token', `GET http://${host}/token?service=test&scope=repository%3At%2Fapp%3Apull = 200: a bearer token for scope repository:t/app:pull, asked anonymously`],
      ['fetch manifest', `GET /v2/t/app/manifests/v1 = 200: ${manifest.length} bytes, ${sha(manifest)}, digest matches the Docker-Content-Digest header`],
      ['fetch manifest', `${sha(manifest)} is an image manifest (application/vnd.oci.image.manifest.v1+json): config ${sha(config)} (${config.length} bytes), 1 layer`],
      ['fetch config', `GET /v2/t/app/blobs/${sha(config)} = 200: ${config.length} bytes, size and digest match the manifest`],
      ['fetch config', `diff_ids (the digests of the uncompressed layers): ${sha(Buffer.from('x'))}`],
      ['fetch layers', `GET /v2/t/app/blobs/${sha(layer)} = 200: ${layer.length} bytes, size and digest match the manifest; kept in the blob cache`],
    ]);
  });

  it('a blob with other bytes than its digest is refused and not reported as fetched', async () => {
    const lines: string[] = [];
    const session = new RegistrySession(host, 't/app', { trace: (step, msg) => lines.push(`${step}: ${msg}`) });
    tamper = true;
    try {
      const image = await resolveImage(session, { domain: host, path: 't/app', tag: 'v1', digest: undefined });
      await expect(fetchBlob(session, image.layers[0]!, join(scratch('tsbox-trace-'), 'blob'))).rejects.toThrow(/digest mismatch/);
    } finally {
      tamper = false;
      session.close();
    }
    expect(lines.filter((l) => l.startsWith('fetch layers'))).toEqual([]);
  });
});
