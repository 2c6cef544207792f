/**
 * A whole pull into the blob cache: resolve the reference, then fetch the layers not yet
 * present, a few at a time, each verified. What `tsbox pull` runs until the image store
 * takes over the ingestion (it will call resolveImage and fetchBlob itself).
 */
import { BlobCache } from './blob-cache.js';
import { findCredentials } from './credentials.js';
import { fetchBlob, type BlobProgress } from './fetch-blob.js';
import { runBounded } from './pool.js';
import { parseReference, type ImageReference } from './reference.js';
import { resolveImage, type ResolvedImage } from './resolve.js';
import { RegistrySession } from './session.js';
import type { TlsSettings } from './tls-policy.js';
import type { PullTrace } from './trace.js';

export const DEFAULT_CONCURRENCY = 3;

export interface PullOptions extends TlsSettings {
  root: string;
  signal?: AbortSignal;
  concurrency?: number;
  progress?: BlobProgress & { plan?(digests: string[], present: Set<string>): void };
  trace?: PullTrace | undefined;
}

export interface PullResult {
  image: ResolvedImage;
  /** Layers that were downloaded now (the rest were already in the cache). */
  fetched: number;
}

export async function pullToCache(refText: string, opts: PullOptions): Promise<PullResult> {
  const ref: ImageReference = parseReference(refText);
  opts.trace?.('resolve reference', `${refText}: registry ${ref.domain}, repository ${ref.path}, ${ref.digest ? `digest ${ref.digest}` : `tag ${ref.tag ?? 'latest'}`}`);
  const session = new RegistrySession(ref.domain, ref.path, { ...opts, credentials: findCredentials(ref.domain), signal: opts.signal });
  try {
    const image = await resolveImage(session, ref);
    const cache = new BlobCache(opts.root);
    const present = new Set(image.layers.filter((l) => cache.has(l.digest, l.size)).map((l) => l.digest));
    // A layer listed twice is fetched once.
    const missing = [...new Map(image.layers.filter((l) => !present.has(l.digest)).map((l) => [l.digest, l])).values()];
    for (const l of image.layers) if (present.has(l.digest)) opts.trace?.('fetch layers', `${l.digest} (${l.size} bytes): already in the blob cache, not fetched`);
    opts.progress?.plan?.(image.layers.map((l) => l.digest), present);
    await runBounded(missing, opts.concurrency ?? DEFAULT_CONCURRENCY, (layer, signal) =>
      fetchBlob(session, layer, cache.path(layer.digest), { partialFile: cache.partialPath(layer.digest), progress: opts.progress, signal }), opts.signal);
    await cache.put(image.config.descriptor.digest, image.config.bytes);
    await cache.put(image.manifestDigest, image.manifestBytes);
    return { image, fetched: missing.length };
  } finally {
    session.close();
  }
}
