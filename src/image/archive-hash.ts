/**
 * sha256 of the archive bytes, computed while they are extracted. For big archives the
 * hashing runs on a worker thread: at ~1.3 GB/s it would otherwise cost the main thread
 * as much as all the extraction syscalls together. Chunks read into SharedArrayBuffers
 * (see readArchiveFile) reach the worker without a copy; other chunks are copied once.
 * Small archives are hashed inline: starting a worker costs more than hashing them.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

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
parentPort.on('message', (m) => {
  if (m === null) parentPort.postMessage(hash.digest('hex'));
  else hash.update(new Uint8Array(m.buffer, m.offset, m.length));
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
  return {
    update(chunk) {
      let shared = chunk;
      if (!(chunk.buffer instanceof SharedArrayBuffer)) {
        shared = Buffer.from(new SharedArrayBuffer(chunk.length));
        chunk.copy(shared);
      }
      worker.postMessage({ buffer: shared.buffer, offset: shared.byteOffset, length: shared.length });
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
 * Read a file in 1 MiB chunks, each in its own SharedArrayBuffer so the hashing worker
 * can read it in place (a fresh buffer per chunk: the tar parser may still hold slices of
 * earlier ones). The next reads are issued before a chunk is handed out, so the disk and
 * the thread pool work while the main thread extracts.
 */
export async function* readArchiveFile(path: string, chunkSize = 1024 * 1024, readAhead = 3): AsyncGenerator<Buffer> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  let position = 0;
  const readNext = async (): Promise<Buffer> => {
    const buf = Buffer.from(new SharedArrayBuffer(chunkSize));
    const at = position;
    position += chunkSize;
    const { bytesRead } = await fh.read(buf, 0, chunkSize, at);
    return bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead);
  };
  const pending: Array<Promise<Buffer>> = [];
  try {
    for (;;) {
      while (pending.length < readAhead) {
        const p = readNext();
        p.catch(() => {}); // awaited in order below
        pending.push(p);
      }
      const chunk = await pending.shift()!;
      if (chunk.length === 0) return;
      yield chunk;
    }
  } finally {
    await Promise.allSettled(pending);
    await fh.close();
  }
}
