/**
 * The read buffers of an archive file: a ring of fixed-size slots in one SharedArrayBuffer,
 * shared by the extractor (main thread) and the hashing worker. Chunk number k lives in
 * slot k % slots; it is reused only when both of its users are done with it: the
 * extractor has released it (both of its consumers release in order: the tar reader at
 * once, gunzip when zlib has read it) and the hasher's count has passed it.
 *
 * Everything between the two threads goes through shared memory, not messages: the
 * reader publishes a chunk by bumping a counter, the hasher reports progress the same
 * way, and each waits on the other's counter with Atomics.wait. A message per chunk cost
 * the main thread ~80 µs each, and would not even be delivered while the main thread is
 * busy extracting. Reusing slots matters too: fresh buffers cost more than the reads into
 * them (the kernel zero-fills and maps every new page).
 */

/** Indexes of the control words (Int32). */
export const CTL = {
  /** Chunks published by the reader (monotonic). */
  PUBLISHED: 0,
  /** Chunks hashed by the worker (monotonic). */
  HASHED: 1,
  /** RUNNING, ENDED (no more chunks), DONE (digest written), FAILED. */
  STATE: 2,
  /** Bumped with every change the worker must see; the worker sleeps on it. */
  EVENTS: 3,
  /** Then: the 32 digest bytes (8 words), then one length word per slot. */
  DIGEST: 4,
  LENGTHS: 12,
} as const;

export const STATE = { RUNNING: 0, ENDED: 1, DONE: 2, FAILED: 3 } as const;

/** No progress from the hasher for this long: it is gone, fail instead of hanging. */
const STALL_MS = 30_000;

export class HasherStalledError extends Error {}

export class ChunkRing {
  readonly arena: SharedArrayBuffer;
  readonly ctl: Int32Array;
  private readonly views: Buffer[] = [];
  /** Chunks given out by take() / released by the extractor. */
  private taken = 0;
  private released = 0;
  private releaseWaiter: (() => void) | null = null;

  constructor(
    readonly chunkSize: number,
    readonly slots: number,
  ) {
    // Pages are only mapped when first written: a big archive touches all of the ring,
    // a small one only its first slots.
    this.arena = new SharedArrayBuffer(chunkSize * slots);
    this.ctl = new Int32Array(new SharedArrayBuffer((CTL.LENGTHS + slots) * 4));
    for (let i = 0; i < slots; i++) {
      const view = Buffer.from(this.arena, i * chunkSize, chunkSize);
      rings.set(view, this);
      this.views.push(view);
    }
  }

  /**
   * The next slot, to read into. Waits until the extractor has released it (async: the
   * release may come from zlib's callback) and, when `hashed`, until the hasher is done
   * with it (a synchronous wait: the worker does not need this thread to make progress).
   */
  async take(hashed: boolean): Promise<Buffer> {
    const k = this.taken;
    while (k - this.released >= this.slots) await new Promise<void>((resolve) => (this.releaseWaiter = resolve));
    if (hashed) this.waitHashed(k - this.slots + 1);
    this.taken++;
    return this.views[k % this.slots]!;
  }

  /**
   * The last slot taken now holds `length` bytes: returns them as the chunk to hand to the
   * extractor and, when `hashed`, publishes them to the hasher.
   */
  filled(length: number, hashed: boolean): Buffer {
    const slot = (this.taken - 1) % this.slots;
    if (hashed) {
      Atomics.store(this.ctl, CTL.LENGTHS + slot, length);
      Atomics.add(this.ctl, CTL.PUBLISHED, 1);
      this.signal();
    }
    const view = this.views[slot]!;
    if (length === view.length) return view;
    const part = view.subarray(0, length);
    rings.set(part, this);
    return part;
  }

  /** No more chunks: the hasher may finish. */
  end(): void {
    Atomics.store(this.ctl, CTL.STATE, STATE.ENDED);
    this.signal();
  }

  /** The extractor is done with the oldest chunk it holds. */
  release(): void {
    this.released++;
    const waiter = this.releaseWaiter;
    this.releaseWaiter = null;
    waiter?.();
  }

  private signal(): void {
    Atomics.add(this.ctl, CTL.EVENTS, 1);
    Atomics.notify(this.ctl, CTL.EVENTS);
  }

  /** Block until the hasher has hashed `count` chunks. */
  private waitHashed(count: number): void {
    let last = Atomics.load(this.ctl, CTL.HASHED);
    let since = Date.now();
    while (last < count) {
      if (Atomics.load(this.ctl, CTL.STATE) === STATE.FAILED) throw new HasherStalledError('the archive hashing thread failed');
      Atomics.wait(this.ctl, CTL.HASHED, last, 1000);
      const now = Atomics.load(this.ctl, CTL.HASHED);
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since > STALL_MS) {
        throw new HasherStalledError('the archive hashing thread stopped making progress');
      }
    }
  }
}

/** The ring a chunk (a view into a slot, or part of one) belongs to. */
const rings = new WeakMap<Buffer, ChunkRing>();

/**
 * The extractor is done with `chunk`: its slot may be read into again. A no-op for
 * buffers that are not ring slots (stdin's chunks, copies).
 */
export function releaseChunk(chunk: Buffer): void {
  rings.get(chunk)?.release();
}
