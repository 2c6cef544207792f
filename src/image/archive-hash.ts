/**
 * sha256 of the archive bytes, computed while they are extracted. For big archives the
 * hashing runs on a worker thread: at ~1.8 GB/s it would otherwise cost the main thread
 * as much as all the extraction syscalls together. Chunks read into SharedArrayBuffers
 * (see readArchiveFile) reach the worker without a copy, and go back to their pool when
 * hashed (chunk-pool.ts); other chunks are copied once.
 * Small archives are hashed inline: starting a worker costs more than hashing them.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ChunkPool, hashTicket } from './chunk-pool.js';

export interface ArchiveHasher {
  update(chunk: Buffer): void;
  /** "sha256:<hex>". */
  digest(): Promise<string>;
  /** Stop the worker, if any, without a result (on failure). */
  abort(): void;
}

/** Archives at least this big are hashed off the main thread. */
export const WORKER_HASH_MIN_BYTES = 32 * 1024 * 1024;

// Plain JS so it runs the same from compiled output and from sources under a test runner.
const workerSource = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
const buffers = new Map();
parentPort.on('message', (m) => {
  if (m === null) return parentPort.postMessage(hash.digest('hex'));
  if (m.buffer) buffers.set(m.id, { buffer: m.buffer, progress: m.progress });
  const { buffer, progress } = buffers.get(m.id);
  hash.update(new Uint8Array(buffer, m.offset, m.length));
  if (progress) {
    Atomics.store(progress, 0, m.seq);
    Atomics.notify(progress, 0);
  } else {
    buffers.delete(m.id);
  }
});
`;

export function createArchiveHasher(expectedBytes: number | null): ArchiveHasher {
  if (expectedBytes === null || expectedBytes < WORKER_HASH_MIN_BYTES) {
    const hash = createHash('sha256');
    return {
      update: (chunk) => void hash.update(chunk),
      digest: async () => `sha256:${hash.digest('hex')}`,
      abort: () => {},
    };
  }
  const worker = new Worker(workerSource, { eval: true });
  worker.unref();
  const sent = new WeakMap<ArrayBufferLike, number>();
  let nextId = 1;
  return {
    update(chunk) {
      let shared = chunk;
      if (!(chunk.buffer instanceof SharedArrayBuffer)) {
        shared = Buffer.from(new SharedArrayBuffer(chunk.length));
        chunk.copy(shared);
      }
      // A pooled buffer comes back many times: the worker keeps it after the first, as
      // sending a SharedArrayBuffer costs far more than sending its number.
      const ticket = hashTicket(shared);
      const known = ticket !== null && sent.has(shared.buffer);
      const id = sent.get(shared.buffer) ?? nextId++;
      if (ticket !== null) sent.set(shared.buffer, id);
      const offset = shared.byteOffset;
      const length = shared.length;
      if (known) worker.postMessage({ id, offset, length, seq: ticket.seq });
      else worker.postMessage({ id, buffer: shared.buffer, progress: ticket?.progress, offset, length, seq: ticket?.seq });
    },
    digest() {
      return new Promise<string>((resolve, reject) => {
        worker.once('message', (hex: string) => {
          void worker.terminate();
          resolve(`sha256:${hex}`);
        });
        worker.once('error', reject);
        worker.postMessage(null);
      });
    },
    abort() {
      void worker.terminate();
    },
  };
}

/**
 * Read a file in chunks from a ChunkPool: each chunk may be reused once the consumer has
 * called releaseChunk on it and the hasher is done with it (a consumer that does not
 * release just gets fresh buffers). Reads are synchronous: from the page cache a 1 MiB
 * read takes ~50 µs, less than a round trip through the thread pool, and the kernel's
 * readahead keeps a cold file streaming.
 */
export async function* readArchiveFile(path: string, chunkSize = 1024 * 1024, maxChunks = 64): AsyncGenerator<Buffer> {
  const pool = new ChunkPool(chunkSize, maxChunks);
  const fd = openSync(path, 'r');
  try {
    for (let position = 0; ; ) {
      const buf = pool.take();
      const n = readSync(fd, buf, 0, chunkSize, position);
      if (n === 0) return;
      position += n;
      yield n === chunkSize ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}
