/**
 * readArchiveFile hashes what it yields: inline for small files, on a worker thread fed
 * through a ring of shared slots for big ones. Small rings and chunks here make the ring
 * wrap many times, with a consumer that holds chunks for a while (as gunzip does).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readArchiveFile } from '../../src/image/archive-hash.js';
import { releaseChunk } from '../../src/image/chunk-ring.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbox-archive-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(bytes: number): { path: string; data: Buffer } {
  const data = randomBytes(bytes);
  const path = join(dir, `f-${bytes}`);
  writeFileSync(path, data);
  return { path, data };
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('readArchiveFile', () => {
  for (const [what, workerMinBytes] of [
    ['inline', Infinity],
    ['on a worker', 0],
  ] as const) {
    it(`yields every byte in order and hashes them (${what})`, async () => {
      const { path, data } = file(1_000_003);
      const input = readArchiveFile(path, { chunkSize: 4096, slots: 4, workerMinBytes });
      const seen: Buffer[] = [];
      for await (const chunk of input) {
        seen.push(Buffer.from(chunk));
        releaseChunk(chunk);
      }
      expect(Buffer.concat(seen).equals(data)).toBe(true);
      expect(await input.digest()).toBe(sha256(data));
    });
  }

  it('waits for chunks the consumer still holds before reusing their slots', async () => {
    const { path, data } = file(300_000);
    const input = readArchiveFile(path, { chunkSize: 4096, slots: 3, workerMinBytes: 0 });
    const held: Buffer[] = [];
    const copies: Buffer[] = [];
    for await (const chunk of input) {
      held.push(chunk);
      // Release the oldest two later, from the event loop, as zlib's callback would.
      if (held.length === 3) {
        const [a, b] = held.splice(0, 2);
        copies.push(Buffer.from(a!), Buffer.from(b!));
        setImmediate(() => (releaseChunk(a!), releaseChunk(b!)));
      }
    }
    for (const c of held) copies.push(Buffer.from(c));
    expect(Buffer.concat(copies).equals(data)).toBe(true);
    expect(await input.digest()).toBe(sha256(data));
  });

  it('hashes an empty file', async () => {
    const { path, data } = file(0);
    const input = readArchiveFile(path, { workerMinBytes: 0 });
    for await (const chunk of input) releaseChunk(chunk);
    expect(await input.digest()).toBe(sha256(data));
  });
});
