/**
 * sha256 of the archive bytes, computed as they are read for extraction: one read of the
 * archive, and the digest ready when the last chunk has been extracted.
 *
 * readArchiveFile reads the file into a ring of shared slots (chunk-ring.ts). For big
 * archives a worker thread hashes the slots while the main thread extracts them: at
 * ~2 GB/s sha256 alone costs as much as all the extraction syscalls together, so it must
 * run on another core. The worker is fed and reports back through shared memory only,
 * and it is started before the first read, so its start-up overlaps the extraction.
 * Small archives are hashed inline: starting a worker costs more than hashing them.
 *
 * Other inputs (stdin, a fifo) are hashed inline by the extractor (createInlineHasher).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ChunkRing, CTL, HasherStalledError, STATE } from './chunk-ring.js';

/** An archive input that hashes every byte it yields. */
export interface HashedArchive extends AsyncIterable<Buffer> {
  /** "sha256:<hex>" of all the bytes yielded; call once the iteration is over. */
  digest(): Promise<string>;
  /** Stop hashing without a result (on failure). */
  abort(): void;
}

export interface InlineHasher {
  update(chunk: Buffer): void;
  digest(): string;
}

/** Archives at least this big are hashed off the main thread. */
export const WORKER_HASH_MIN_BYTES = 32 * 1024 * 1024;

export function isHashedArchive(input: AsyncIterable<unknown>): input is HashedArchive {
  return typeof (input as Partial<HashedArchive>).digest === 'function';
}

export function createInlineHasher(): InlineHasher {
  const hash = createHash('sha256');
  return { update: (chunk) => void hash.update(chunk), digest: () => `sha256:${hash.digest('hex')}` };
}

/**
 * Read a file in chunks from a ChunkRing; the consumer calls releaseChunk on each chunk
 * when done with it (in order). Reads are synchronous: from the page cache a 1 MiB read
 * takes ~50 µs, less than a round trip through the thread pool, and the kernel's
 * readahead keeps a cold file streaming.
 */
export interface ReadOptions {
  chunkSize?: number;
  /** Ring slots: enough to keep reading while the worker starts (~20 ms of reading). */
  slots?: number;
  /** Files at least this big are hashed on a worker thread (tests lower it). */
  workerMinBytes?: number;
  /** Read only `length` bytes from `start` (a member of a tar file: an image layer). */
  start?: number;
  length?: number;
}

export function readArchiveFile(path: string, { chunkSize = 1024 * 1024, slots = 64, workerMinBytes = WORKER_HASH_MIN_BYTES, start = 0, length }: ReadOptions = {}): HashedArchive {
  let hasher: RingHasher | InlineHasher | null = null;
  return {
    async *[Symbol.asyncIterator]() {
      const fd = openSync(path, 'r');
      try {
        const end = length === undefined ? fstatSync(fd).size : start + length;
        // A small input (most image layers) gets a ring its size, not 64 MiB of slots.
        const fits = Math.ceil((end - start + 1) / chunkSize) + 1;
        const ring = new ChunkRing(chunkSize, Math.min(slots, Math.max(4, fits)));
        const ringHasher = end - start >= workerMinBytes ? new RingHasher(ring) : null;
        const inline = ringHasher === null ? createInlineHasher() : null;
        hasher = ringHasher ?? inline;
        for (let position = start; ; ) {
          const slot = await ring.take(ringHasher !== null);
          const n = position >= end ? 0 : readSync(fd, slot, 0, Math.min(chunkSize, end - position), position);
          if (n === 0) {
            if (length !== undefined && position < end) throw new Error(`${path} ended before its member did`);
            break;
          }
          position += n;
          const chunk = ring.filled(n, ringHasher !== null);
          inline?.update(chunk);
          yield chunk;
        }
        ring.end();
      } finally {
        closeSync(fd);
      }
    },
    async digest() {
      if (hasher === null) throw new Error('readArchiveFile: digest() before reading');
      return hasher.digest();
    },
    abort() {
      if (hasher instanceof RingHasher) hasher.abort();
    },
  };
}

// Plain JS so it runs the same from compiled output and from sources under a test runner.
// It hashes published chunks in order, reports each one done, and sleeps on EVENTS.
const workerSource = `
const { workerData } = require('node:worker_threads');
const { arena, ctlBuffer, chunkSize, slots, CTL, STATE } = workerData;
const ctl = new Int32Array(ctlBuffer);
const hash = require('node:crypto').createHash('sha256');
try {
  for (let seq = 0; ; ) {
    const events = Atomics.load(ctl, CTL.EVENTS);
    const published = Atomics.load(ctl, CTL.PUBLISHED);
    for (; seq < published; seq++) {
      const slot = seq % slots;
      hash.update(new Uint8Array(arena, slot * chunkSize, Atomics.load(ctl, CTL.LENGTHS + slot)));
      Atomics.store(ctl, CTL.HASHED, seq + 1);
      Atomics.notify(ctl, CTL.HASHED);
    }
    if (Atomics.load(ctl, CTL.STATE) === STATE.ENDED && Atomics.load(ctl, CTL.PUBLISHED) === seq) break;
    if (Atomics.load(ctl, CTL.PUBLISHED) === seq) Atomics.wait(ctl, CTL.EVENTS, events);
  }
  new Uint8Array(ctlBuffer, CTL.DIGEST * 4, 32).set(hash.digest());
  Atomics.store(ctl, CTL.STATE, STATE.DONE);
} catch {
  Atomics.store(ctl, CTL.STATE, STATE.FAILED);
}
Atomics.notify(ctl, CTL.STATE);
Atomics.notify(ctl, CTL.HASHED);
`;

/** Waiting this long for the worker's digest without progress: it is gone. */
const DIGEST_STALL_MS = 30_000;

/** The worker side of a ChunkRing. */
class RingHasher {
  private readonly worker: Worker;

  constructor(private readonly ring: ChunkRing) {
    this.worker = new Worker(workerSource, {
      eval: true,
      workerData: { arena: ring.arena, ctlBuffer: ring.ctl.buffer, chunkSize: ring.chunkSize, slots: ring.slots, CTL, STATE },
    });
    this.worker.unref();
    // A worker that cannot start never sets FAILED itself; the stall timeouts catch it.
    this.worker.on('error', () => {
      Atomics.store(ring.ctl, CTL.STATE, STATE.FAILED);
      Atomics.notify(ring.ctl, CTL.HASHED);
    });
  }

  /**
   * The worker is at most one ring behind (~30 ms of hashing): wait for it synchronously.
   * (Atomics.waitAsync would not keep the process alive while it waits.)
   */
  digest(): string {
    const ctl = this.ring.ctl;
    let hashed = Atomics.load(ctl, CTL.HASHED);
    let since = Date.now();
    for (;;) {
      const state = Atomics.load(ctl, CTL.STATE);
      if (state === STATE.DONE) break;
      if (state === STATE.FAILED) throw new HasherStalledError('the archive hashing thread failed');
      Atomics.wait(ctl, CTL.STATE, state, 100);
      const now = Atomics.load(ctl, CTL.HASHED);
      if (now !== hashed) {
        hashed = now;
        since = Date.now();
      } else if (Date.now() - since > DIGEST_STALL_MS) {
        throw new HasherStalledError('the archive hashing thread stopped making progress');
      }
    }
    void this.worker.terminate();
    return `sha256:${Buffer.from(ctl.buffer, CTL.DIGEST * 4, 32).toString('hex')}`;
  }

  abort(): void {
    void this.worker.terminate();
  }
}
