/**
 * A layer read while it downloads (registry/stream-blob.ts), against a tiny registry on
 * 127.0.0.1 in this process: the reader gets every byte in order and its end only once the
 * digest matched; a partial file from an earlier pull is resumed with a Range request, or,
 * when the server ignores the Range, its bytes are skipped from the full answer (the file is
 * only appended to, never truncated under the reader); wrong bytes fail the reader and
 * remove the partial file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistrySession } from '../../src/registry/session.js';
import { StreamedBlob } from '../../src/registry/stream-blob.js';
import { scratchDirs } from '../helpers/scratch.js';

const scratch = scratchDirs();

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blob = randomBytes(3 << 20);
const descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(blob), size: blob.length };

let server: Server;
let host: string;
let honourRange = true;
let served = blob;
const ranges: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/v2/') return res.end('{}');
    if (req.url !== `/v2/t/app/blobs/${descriptor.digest}`) {
      res.writeHead(404);
      return res.end();
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) ranges.push(req.headers.range!);
    if (range && honourRange) {
      const from = Number(range[1]);
      res.writeHead(206, { 'Content-Range': `bytes ${from}-${served.length - 1}/${served.length}` });
      return res.end(served.subarray(from));
    }
    res.writeHead(200, { 'Content-Length': String(served.length) });
    res.end(served);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function readAll(partial: string): Promise<{ bytes: Buffer; blob: StreamedBlob }> {
  const session = new RegistrySession(host, 't/app', {});
  const streamed = new StreamedBlob(session, descriptor, partial, undefined, undefined);
  try {
    void streamed.start();
    const chunks: Buffer[] = [];
    for await (const c of streamed.open()) chunks.push(c);
    return { bytes: Buffer.concat(chunks), blob: streamed };
  } finally {
    await streamed.settled;
    streamed.close();
    session.close();
  }
}

describe('a blob streamed while it downloads', () => {
  it('gives every byte in order, and keeps the verified file until discarded', async () => {
    const partial = join(scratch('tsbox-stream-'), 'incoming', 'sha256-x');
    const { bytes, blob: b } = await readAll(partial);
    expect(bytes.equals(blob)).toBe(true);
    expect(b.resumedFrom).toBe(0);
    expect(readFileSync(partial).equals(blob)).toBe(true);
    await b.discard();
    expect(existsSync(partial)).toBe(false);
  });

  for (const honour of [true, false]) {
    it(`resumes an earlier pull's partial file (${honour ? 'Range honoured: 206' : 'Range ignored: 200, the kept bytes skipped'})`, async () => {
      honourRange = honour;
      ranges.length = 0;
      const dir = scratch('tsbox-stream-');
      const partial = join(dir, 'sha256-x');
      const kept = 1_234_567;
      writeFileSync(partial, blob.subarray(0, kept));
      try {
        const { bytes, blob: b } = await readAll(partial);
        expect(ranges).toEqual([`bytes=${kept}-`]);
        expect(b.resumedFrom).toBe(kept);
        expect(bytes.equals(blob)).toBe(true);
        expect(readFileSync(partial).equals(blob)).toBe(true);
      } finally {
        honourRange = true;
      }
    });
  }

  it('wrong bytes: the reader fails with the digest mismatch and the partial file is removed', async () => {
    const dir = scratch('tsbox-stream-');
    const partial = join(dir, 'sha256-x');
    served = Buffer.from(blob);
    served[served.length >> 1] ^= 0xff;
    try {
      await expect(readAll(partial)).rejects.toThrow(/digest mismatch/);
      expect(existsSync(partial)).toBe(false);
    } finally {
      served = blob;
    }
  });
});
