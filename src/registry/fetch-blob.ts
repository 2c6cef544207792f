/**
 * fetchBlob(descriptor → destFile): download one blob into a partial file, resuming with a
 * Range request from what an earlier (interrupted or killed) pull left there, hash every
 * byte (the kept prefix too), refuse a byte past the descriptor's size, and rename the
 * partial to destFile only once size and digest match. A digest mismatch removes the
 * partial (its bytes are wrong, resuming would keep them); any other failure keeps it.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Hash } from 'node:crypto';
import { withBlobLock } from './blob-lock.js';
import { checkDigest, hasherFor } from './digest.js';
import { RegistryError } from './errors.js';
import type { Descriptor } from './manifest.js';
import type { RegistrySession } from './session.js';

export interface BlobProgress {
  /** The transfer of `digest` starts (again) with `done` of `total` bytes already present. */
  start(digest: string, total: number, done: number): void;
  advance(digest: string, bytes: number): void;
  finish(digest: string): void;
}

export interface FetchBlobOptions {
  /** Where the bytes accumulate until verified; default destFile + ".partial". Keep it stable to resume. */
  partialFile?: string;
  progress?: BlobProgress;
  signal?: AbortSignal;
}

const ATTEMPTS = 3;

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

async function hashPrefix(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}

/** Parse "bytes START-END/TOTAL". */
function rangeStart(header: string | undefined): number | undefined {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header ?? '');
  return m ? Number(m[1]) : undefined;
}

export async function fetchBlob(session: RegistrySession, descriptor: Descriptor, destFile: string, opts: FetchBlobOptions = {}): Promise<void> {
  const digest = checkDigest(descriptor.digest, 'layer');
  const partial = opts.partialFile ?? `${destFile}.partial`;
  await mkdir(dirname(partial), { recursive: true });
  await withBlobLock(`${partial}.lock`, opts.signal, async () => {
    // Another pull may have finished this blob while we waited for the lock.
    if ((await sizeOf(destFile)) === descriptor.size && descriptor.size > 0) return;
    await download(session, descriptor, destFile, partial, opts);
    session.trace?.('fetch layers', `GET /v2/${session.repository}/blobs/${digest} = 200: ${descriptor.size} bytes, size and digest match the manifest; kept in the blob cache`);
  });
  opts.progress?.finish(digest);
}

async function download(session: RegistrySession, descriptor: Descriptor, destFile: string, partial: string, opts: FetchBlobOptions): Promise<void> {
  const digest = descriptor.digest;
  for (let attempt = 1; ; attempt++) {
    try {
      await transfer(session, descriptor, partial, opts);
      break;
    } catch (err) {
      const retriable = !(err instanceof RegistryError) && !opts.signal?.aborted && (err as Error).name !== 'AbortError';
      if (!retriable || attempt >= ATTEMPTS) {
        if (err instanceof RegistryError || opts.signal?.aborted || (err as Error).name === 'AbortError') throw err;
        throw new RegistryError(`blob ${digest}: ${(err as Error).message}`, { hint: 'The download stopped; run the pull again to resume it.', cause: err });
      }
    }
  }
  await mkdir(dirname(destFile), { recursive: true });
  await rename(partial, destFile);
}

async function transfer(session: RegistrySession, d: Descriptor, partial: string, opts: FetchBlobOptions): Promise<void> {
  let have = await sizeOf(partial);
  if (have > d.size) {
    await truncate(partial, 0);
    have = 0;
  }
  let hash = hasherFor(d.digest);
  if (have > 0) await hashPrefix(partial, hash);
  if (have < d.size) {
    const res = await session.request('GET', `${session.repository}/blobs/${d.digest}`, have > 0 ? { Range: `bytes=${have}-` } : {});
    if (res.statusCode === 206 && rangeStart(res.headers['content-range']) === have) {
      // resuming: the prefix already hashed stays
    } else if (res.statusCode === 200) {
      if (have > 0) {
        // The server ignored the Range: start over.
        await truncate(partial, 0);
        have = 0;
        hash = hasherFor(d.digest);
      }
    } else if (res.statusCode === 416 || res.statusCode === 206) {
      res.resume();
      await truncate(partial, 0);
      throw new Error(`the registry refused to resume at byte ${have}`);
    } else {
      throw await session.failure(res, `blob ${d.digest}`);
    }
    opts.progress?.start(d.digest, d.size, have);
    let received = have;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        if (received > d.size) {
          cb(new RegistryError(`blob ${d.digest}: the registry sent more than the ${d.size} bytes the manifest declares`, { hint: 'The manifest lies about the size, or the registry storage is corrupt.' }));
          return;
        }
        hash.update(chunk);
        opts.progress?.advance(d.digest, chunk.length);
        cb(null, chunk);
      },
    });
    const out = createWriteStream(partial, { flags: 'a', highWaterMark: 1 << 20 });
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    try {
      await pipeline(res, count, out, { signal: opts.signal });
    } catch (err) {
      // pipeline rejects as soon as one stream fails, while a write of the file may still be
      // in flight: the next attempt measures and truncates the partial, so it waits for the
      // file to be closed (its last write done) first.
      await closed;
      // Bytes from a registry that lies about the size are worth nothing to a later resume.
      if (err instanceof RegistryError) await rm(partial, { force: true });
      throw err;
    }
    if (received < d.size) throw new Error(`connection closed after ${received} of ${d.size} bytes`);
  }
  const actual = `${d.digest.slice(0, d.digest.indexOf(':'))}:${hash.digest('hex')}`;
  if (actual !== d.digest) {
    await rm(partial, { force: true });
    // A kept prefix may be what was wrong (another writer, a disk error): one more try from byte 0.
    if (have > 0) throw new Error('the resumed download did not verify; starting over');
    throw new RegistryError(`blob ${d.digest}: digest mismatch: got ${actual}`, { hint: 'The registry sent other bytes than the manifest names: the image or the registry storage is corrupt. Nothing was stored.' });
  }
}
