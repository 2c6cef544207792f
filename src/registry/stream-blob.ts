/**
 * A layer blob downloaded and consumed at the same time (a pull's one pass: download ->
 * digest -> decompress -> diff_id -> extract). The bytes are appended to a partial file
 * under <root>/blobs/incoming (so that a pull killed midway resumes with a Range request)
 * and a reader follows that file from byte 0 as it grows: the download runs at network
 * speed whatever the extraction's pace, several layers download while the first one is
 * extracted, and the reader never holds more than one chunk in memory.
 *
 * The file is only ever appended to while a reader may follow it: a server that ignores
 * the Range header has the bytes already kept skipped from its full answer (the digest over
 * the whole file still decides), never a truncation under the reader. The reader reports
 * the end only once the size and the digest of every byte matched the descriptor; a
 * mismatch removes the partial file and fails the reader (the extraction then fails and
 * nothing is committed).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync, constants } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Hash } from 'node:crypto';
import { withBlobLock } from './blob-lock.js';
import { checkDigest, hasherFor } from './digest.js';
import { RegistryError } from './errors.js';
import type { BlobProgress } from './fetch-blob.js';
import type { Descriptor } from './manifest.js';
import type { RegistrySession } from './session.js';

const ATTEMPTS = 3;
const READ_CHUNK = 1 << 20;

/** Parse "bytes START-END/TOTAL". */
function rangeStart(header: string | undefined): number | undefined {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header ?? '');
  return m ? Number(m[1]) : undefined;
}

function isAbort(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err as Error)?.name === 'AbortError';
}

export class StreamedBlob {
  /** Bytes of the partial file that are ours to read (verified prefix, then what we wrote). */
  private readable = 0;
  private verified = false;
  private failure: unknown = undefined;
  private waiters: Array<() => void> = [];
  private readFd = -1;
  private readonly controller = new AbortController();
  private lastStatus = 0;
  /** Bytes kept from an earlier pull's partial file (0: downloaded from the start). */
  resumedFrom = 0;
  /** Settles when the download has ended, verified or not (never rejects). */
  readonly settled: Promise<void>;
  private startDownload!: () => void;

  constructor(
    private readonly session: RegistrySession,
    readonly descriptor: Descriptor,
    readonly partial: string,
    private readonly progress: BlobProgress | undefined,
    outer: AbortSignal | undefined,
  ) {
    checkDigest(descriptor.digest, 'layer');
    if (outer !== undefined) {
      if (outer.aborted) this.controller.abort(outer.reason);
      else outer.addEventListener('abort', () => this.controller.abort(outer.reason), { once: true });
    }
    this.settled = new Promise<void>((resolve) => (this.startDownload = resolve)).then(() => this.download());
  }

  /** Start the transfer (a pull starts a few at a time); resolves when it has ended. */
  start(): Promise<void> {
    this.startDownload();
    return this.settled;
  }

  /** Stop the transfer (the partial file stays for a later resume). */
  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  get failed(): unknown {
    return this.failure;
  }

  /** The blob's bytes from the first, as they arrive; ends only once they are verified. */
  async *open(): AsyncIterable<Buffer> {
    let pos = 0;
    for (;;) {
      if (pos < this.readable) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, this.readable - pos));
        const n = readSync(this.readFd, buf, 0, buf.length, pos);
        if (n === 0) throw new Error(`${this.partial} ended before its download did`);
        pos += n;
        yield n === buf.length ? buf : buf.subarray(0, n);
        continue;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.verified) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Remove the partial file (the layer is in the store, or its bytes are worth nothing). */
  async discard(): Promise<void> {
    this.abort();
    await this.settled;
    await rm(this.partial, { force: true });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async download(): Promise<void> {
    const signal = this.controller.signal;
    try {
      await mkdir(dirname(this.partial), { recursive: true });
      await withBlobLock(`${this.partial}.lock`, signal, () => this.underLock(signal));
      this.verified = true;
      this.progress?.finish(this.descriptor.digest);
    } catch (err) {
      this.failure = isAbort(err, signal) ? (signal.reason ?? err) : err;
    } finally {
      this.wake();
    }
  }

  private async underLock(signal: AbortSignal): Promise<void> {
    const d = this.descriptor;
    const fd = openSync(this.partial, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    // The reader gets its own descriptor of this very file: a later unlink (by another pull
    // that committed the same layer) cannot take the bytes from under it.
    this.readFd = openSync(this.partial, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      let have = fstatSync(fd).size;
      if (have > d.size) {
        ftruncateSync(fd, 0); // no reader has seen anything yet
        have = 0;
      }
      const hash = hasherFor(d.digest);
      if (have > 0) hashPrefix(fd, have, hash);
      this.resumedFrom = have;
      this.readable = have;
      this.wake();
      for (let attempt = 1; this.readable < d.size; attempt++) {
        try {
          // A retry asks for what is still missing: every byte written so far is hashed and kept.
          await this.transfer(fd, this.readable, hash, signal);
        } catch (err) {
          if (err instanceof RegistryError || isAbort(err, signal) || attempt >= ATTEMPTS) {
            if (err instanceof RegistryError || isAbort(err, signal)) throw err;
            throw new RegistryError(`blob ${d.digest}: ${(err as Error).message}`, { hint: 'The download stopped; run the pull again to resume it.', cause: err });
          }
        }
      }
      const actual = `${d.digest.slice(0, d.digest.indexOf(':'))}:${hash.digest('hex')}`;
      if (actual !== d.digest) {
        await rm(this.partial, { force: true });
        const kept = this.resumedFrom > 0 ? ` (${this.resumedFrom} bytes were kept from an earlier pull)` : '';
        throw new RegistryError(`blob ${d.digest}: digest mismatch: got ${actual}${kept}`, { hint: 'The registry sent other bytes than the manifest names: the image or the registry storage is corrupt. Nothing was stored.' });
      }
      const how = this.lastStatus === 0 ? 'already downloaded by an earlier pull' : `GET /v2/${this.session.repository}/blobs/${d.digest} = ${this.lastStatus}`;
      const resumed = this.resumedFrom > 0 && this.lastStatus !== 0 ? ` (resumed at byte ${this.resumedFrom})` : '';
      this.session.trace?.('fetch layers', `${how}: ${d.size} bytes${resumed}, size and digest match the manifest; streamed into the extraction`);
    } finally {
      closeSync(fd);
    }
  }

  /** One request from byte `from`; returns the bytes now in the file. */
  private async transfer(fd: number, from: number, hash: Hash, signal: AbortSignal): Promise<number> {
    const d = this.descriptor;
    const res = await this.session.request('GET', `${this.session.repository}/blobs/${d.digest}`, from > 0 ? { Range: `bytes=${from}-` } : {});
    let skip = 0;
    this.lastStatus = res.statusCode ?? 0;
    if (res.statusCode === 206 && rangeStart(res.headers['content-range']) === from) {
      // resuming where the file ends
    } else if (res.statusCode === 200) {
      skip = from; // the whole blob again: the bytes already kept are skipped, not rewritten
    } else if (res.statusCode === 206 || res.statusCode === 416) {
      res.resume();
      throw new RegistryError(`blob ${d.digest}: the registry refused to resume at byte ${from}`, { hint: 'Run the pull again; it starts the download over.' });
    } else {
      throw await this.session.failure(res, `blob ${d.digest}`);
    }
    this.progress?.start(d.digest, d.size, from);
    let written = from;
    const onAbort = () => res.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      signal.throwIfAborted();
      for await (const raw of res as AsyncIterable<Buffer>) {
        let chunk = raw;
        if (skip > 0) {
          const n = Math.min(skip, chunk.length);
          skip -= n;
          chunk = chunk.subarray(n);
          if (chunk.length === 0) continue;
        }
        if (written + chunk.length > d.size) {
          await rm(this.partial, { force: true });
          throw new RegistryError(`blob ${d.digest}: the registry sent more than the ${d.size} bytes the manifest declares`, { hint: 'The manifest lies about the size, or the registry storage is corrupt.' });
        }
        hash.update(chunk);
        writeSync(fd, chunk, 0, chunk.length, written);
        written += chunk.length;
        this.readable = written;
        this.progress?.advance(d.digest, chunk.length);
        this.wake();
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    signal.throwIfAborted();
    if (written < d.size) throw new Error(`connection closed after ${written} of ${d.size} bytes`);
    return written;
  }

  /** Close the reader's descriptor (after the layer is committed or has failed). */
  close(): void {
    if (this.readFd >= 0) closeSync(this.readFd);
    this.readFd = -1;
  }
}

function hashPrefix(fd: number, length: number, hash: Hash): void {
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  for (let pos = 0; pos < length; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, length - pos), pos);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    pos += n;
  }
}
