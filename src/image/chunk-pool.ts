/**
 * Read buffers for an archive file, reused once both of their users are done with them:
 * the extractor (it calls releaseChunk) and the hashing worker (it may still be reading a
 * chunk after the extractor has moved on). Fresh buffers cost more than the reads into
 * them: the kernel zero-fills and maps every new page, about a quarter of the extraction
 * time on a 200 MB archive.
 *
 * The worker reports progress through shared memory, not messages: while it extracts
 * from a file, the main thread does not go back to the event loop to receive them.
 * Chunks are SharedArrayBuffers so that the worker reads them in place.
 */

interface Slot {
  buf: Buffer;
  /** The extractor still uses it. */
  held: boolean;
  /** Sequence number the hasher must reach before reuse; 0 when not given to a hasher. */
  hashSeq: number;
}

/** How a hasher reports that it is done with a chunk: store `seq` into `progress[0]`, then notify. */
export interface HashTicket {
  progress: Int32Array;
  seq: number;
}

const owners = new WeakMap<ArrayBufferLike, { pool: ChunkPool; slot: Slot }>();

/** Waiting longer than this for the hasher: allocate instead (never hang on a dead worker). */
const MAX_WAIT_MS = 100;

export class ChunkPool {
  private readonly progress = new Int32Array(new SharedArrayBuffer(4));
  private nextSeq = 1;
  private readonly slots: Slot[] = [];
  private cursor = 0;

  constructor(
    readonly chunkSize: number,
    private readonly maxSlots: number,
  ) {}

  /** A buffer of chunkSize bytes that nobody uses any more (or a new one). */
  take(): Buffer {
    const slot = this.freeSlot() ?? this.grow() ?? this.waitForHasher();
    if (slot === null) return Buffer.from(new SharedArrayBuffer(this.chunkSize)); // everything is held: an unpooled buffer
    slot.held = true;
    slot.hashSeq = 0;
    return slot.buf;
  }

  /** Slots are tried in the order they were filled, so the oldest (most likely hashed) comes first. */
  private freeSlot(): Slot | null {
    const done = Atomics.load(this.progress, 0);
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[(this.cursor + i) % this.slots.length]!;
      if (!slot.held && slot.hashSeq <= done) {
        this.cursor = (this.cursor + i + 1) % this.slots.length;
        return slot;
      }
    }
    return null;
  }

  private grow(): Slot | null {
    if (this.slots.length >= this.maxSlots) return null;
    const slot: Slot = { buf: Buffer.from(new SharedArrayBuffer(this.chunkSize)), held: false, hashSeq: 0 };
    owners.set(slot.buf.buffer, { pool: this, slot });
    this.slots.push(slot);
    return slot;
  }

  /** All slots in use and the hasher behind: wait for it (backpressure), within limits. */
  private waitForHasher(): Slot | null {
    const pending = this.slots.filter((s) => !s.held).map((s) => s.hashSeq);
    if (pending.length === 0) return null;
    const target = Math.min(...pending);
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      const done = Atomics.load(this.progress, 0);
      if (done >= target) return this.freeSlot();
      const left = deadline - Date.now();
      if (left <= 0) return null;
      Atomics.wait(this.progress, 0, done, left);
    }
  }

  /** @internal */
  ticket(slot: Slot): HashTicket {
    slot.hashSeq = this.nextSeq++;
    return { progress: this.progress, seq: slot.hashSeq };
  }
}

/** For a hasher that reads `chunk` later: how to say it is done. null for chunks not from a pool. */
export function hashTicket(chunk: Uint8Array): HashTicket | null {
  const owner = owners.get(chunk.buffer);
  return owner === undefined ? null : owner.pool.ticket(owner.slot);
}

/** The extractor is done with `chunk` (no-op for chunks not from a pool). */
export function releaseChunk(chunk: Uint8Array): void {
  const owner = owners.get(chunk.buffer);
  if (owner !== undefined) owner.slot.held = false;
}
