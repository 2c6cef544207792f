/**
 * REF → an image in the store, as `docker pull` leaves it, in one pass per layer:
 * download → blob digest → decompress → diff_id → extract, the layers' downloads a few at
 * a time while the first ones are extracted.
 *
 * 1. REF@digest whose documents and layers are all in the store: done, no registry asked
 *    (pulled-lookup.ts).
 * 2. The registry client resolves the manifest and the verified config (registry/resolve.ts).
 * 3. Layers already in the layer store (by diff_id, or chain id) are not downloaded; the
 *    others start downloading, at most 3 at a time, each into a partial file that a reader
 *    follows (registry/stream-blob.ts) so that a killed pull resumes with a Range request.
 * 4. The image store extracts each layer from its stream into a temp dir, checks the blob's
 *    digest and the diff_id at the stream's end, and only then renames it into place
 *    (layer-store.ts); a mismatch leaves nothing. The record is published with the tag.
 * 5. The compressed blobs are then removed: the store keeps each layer extracted, and
 *    `tsbox save` writes layers again from the trees (save.ts), so a second copy of every
 *    layer would only take disk. The small documents (index, manifest, config) are kept
 *    for step 1.
 * A layer whose download reused bytes from an earlier pull and then failed (those bytes
 * were not this blob's) is downloaded once more from the start.
 */
import type { Logger } from '../../log.js';
import type { BlobProgress } from '../../registry/fetch-blob.js';
import type { ResolvedImage } from '../../registry/resolve.js';
import { BlobCache } from '../../registry/blob-cache.js';
import { StreamedBlob } from '../../registry/stream-blob.js';
import type { TlsSettings } from '../../registry/tls-policy.js';
import type { RegistrySession } from '../../registry/session.js';
import { gcImageTemps } from '../temp-dirs.js';
import type { Blob } from './blobs.js';
import type { Digest } from './digest.js';
import { imageConfigSchema, LAYER_MEDIA, parseDocument } from './documents.js';
import { chainIdOf, readLayerMarker } from './layer-store.js';
import { asLoadError, storeImage, type LoadResult } from './load.js';
import { SourceError, type SourceImage } from './source.js';

export interface PullImageOptions extends TlsSettings {
  root: string;
  maxBytes: number;
  maxEntries?: number;
  log: Logger;
  signal?: AbortSignal;
  progress?: BlobProgress & { plan?(digests: string[], present: Set<string>): void };
}

export type PulledImage = LoadResult & { kind: 'image'; manifestDigest: string; fetched: number };

/** docker pulls 3 layers at once. */
export const DOWNLOAD_CONCURRENCY = 3;

export async function pullImage(refText: string, opts: PullImageOptions): Promise<PulledImage> {
  const [{ parseReference, formatReference }, { findCredentials }, { RegistrySession }, { resolveImage }] = await Promise.all([
    import('../../registry/reference.js'), import('../../registry/credentials.js'), import('../../registry/session.js'), import('../../registry/resolve.js'),
  ]);
  // --debug/--explain: each request, document and blob is logged under its step (registry/trace.ts).
  const trace = opts.log.enabled('debug') ? (step: string, msg: string) => opts.log.debug({ step }, msg) : undefined;
  const ref = parseReference(refText);
  trace?.('resolve reference', `${refText}: registry ${ref.domain}, repository ${ref.path}, ${ref.digest ? `digest ${ref.digest}` : `tag ${ref.tag ?? 'latest'}`}`);
  if (ref.digest !== undefined) {
    const { findPulledByDigest } = await import('./pulled-lookup.js');
    const stored = await findPulledByDigest(opts.root, ref.digest);
    if (stored !== null) {
      opts.log.debug({ step: 'write image record' }, `image ${stored.record.id}: ${ref.digest} is in the store with all its layers; the registry was not contacted`);
      return { kind: 'image', record: stored.record, layers: [], warm: true, bytesExtracted: 0, manifestDigest: stored.manifestDigest, fetched: 0 };
    }
  }
  const session = new RegistrySession(ref.domain, ref.path, { ...opts, credentials: findCredentials(ref.domain), signal: opts.signal, trace });
  try {
    const image = await resolveImage(session, ref);
    await keepDocuments(opts.root, image);
    // A digest-only reference names no tag: the image is stored untagged, as docker does.
    const tags = ref.tag === undefined ? [] : [formatReference({ ...ref, digest: undefined })];
    await gcImageTemps(opts.root, opts.log); // what a killed pull or load left half-extracted
    const layers = new PulledLayers(session, image, opts);
    try {
      await layers.prefetch();
      const source = sourceOf(image, tags, layers);
      const origin = { path: formatReference(ref), format: 'registry' };
      let stored;
      try {
        stored = await storeImage(source, origin, opts);
      } catch (err) {
        // An extraction that failed on bytes whose download then failed its check: the
        // download's error is the cause (a digest mismatch says more than "corrupt gzip").
        const failure = await layers.downloadFailure();
        // A layer whose verified bytes failed to extract (a hostile tar, a diff_id that lies)
        // would fail the same way again: its partial file goes too, nothing is left.
        if (failure === undefined && !opts.signal?.aborted) await layers.discardOpenedVerified();
        // Bytes kept from an earlier pull that turned out wrong: once more, from byte 0.
        if (!(await layers.restartResumed())) throw failure ?? err;
        stored = await storeImage(source, origin, opts);
      }
      await layers.discardAll();
      return { ...stored, manifestDigest: image.manifestDigest, fetched: layers.fetched };
    } finally {
      await layers.stopAll();
    }
  } catch (err) {
    throw asLoadError(err, refText);
  } finally {
    session.close();
  }
}

/** The index (when the reference named one), the platform manifest and the config, verified, under <root>/blobs. */
async function keepDocuments(root: string, image: ResolvedImage): Promise<void> {
  const cache = new BlobCache(root);
  if (image.topDigest !== image.manifestDigest) await cache.put(image.topDigest, image.topBytes);
  await cache.put(image.manifestDigest, image.manifestBytes);
  await cache.put(image.config.descriptor.digest, image.config.bytes);
}

/** The image as the image store reads any source; its layer blobs stream from the registry. */
function sourceOf(image: ResolvedImage, repoTags: string[], layers: PulledLayers): SourceImage {
  const configBytes = image.config.bytes;
  const config = parseDocument(configBytes, imageConfigSchema, 'image config');
  return {
    format: 'registry',
    repoTags,
    configDigest: image.config.descriptor.digest as Digest,
    configBytes,
    config,
    layers: image.layers.map((d, i) => {
      const compression = LAYER_MEDIA[d.mediaType];
      if (compression === undefined) throw new SourceError(`layer ${d.digest}: unsupported media type ${d.mediaType}`);
      const blob: Blob = {
        size: d.size,
        open: () => layers.open(d.digest),
        read: () => {
          throw new Error('a pulled layer is streamed, not read whole');
        },
      };
      return { diffId: image.config.diffIds[i] as Digest, digest: d.digest as Digest, compression, blob };
    }),
  };
}

/** The pull's layer downloads: started a few at a time, read once each by the extraction. */
class PulledLayers {
  private readonly downloads = new Map<string, StreamedBlob>();
  private readonly opened = new Set<string>();
  private queue: StreamedBlob[] = [];
  private running = 0;
  fetched = 0;

  constructor(
    private readonly session: RegistrySession,
    private readonly image: ResolvedImage,
    private readonly opts: PullImageOptions,
  ) {}

  /** Start downloading the layers the store does not have (by diff_id, or chain id). */
  async prefetch(): Promise<void> {
    const present = new Set<string>();
    let chain: Digest | null = null;
    for (const [i, d] of this.image.layers.entries()) {
      const diffId = this.image.config.diffIds[i] as Digest;
      chain = chainIdOf(chain, diffId);
      if ((await readLayerMarker(this.opts.root, diffId)) !== null || (await readLayerMarker(this.opts.root, chain)) !== null) present.add(d.digest);
    }
    for (const d of this.image.layers) if (present.has(d.digest)) this.session.trace?.('fetch layers', `${d.digest} (${d.size} bytes): already in the layer store, not fetched`);
    this.opts.progress?.plan?.(this.image.layers.map((l) => l.digest), present);
    for (const d of this.image.layers) if (!present.has(d.digest)) this.get(d.digest);
  }

  /** A layer's bytes; a layer the store lost since prefetch (an rmi meanwhile) is downloaded now. */
  open(digest: string): AsyncIterable<Buffer> {
    this.opened.add(digest);
    return this.get(digest).open();
  }

  private get(digest: string): StreamedBlob {
    let blob = this.downloads.get(digest);
    if (blob === undefined) {
      blob = this.create(digest);
      this.downloads.set(digest, blob);
      this.queue.push(blob);
      this.pump();
    }
    return blob;
  }

  private create(digest: string): StreamedBlob {
    const d = this.image.layers.find((l) => l.digest === digest)!;
    return new StreamedBlob(this.session, d, new BlobCache(this.opts.root).partialPath(d.digest), this.opts.progress, this.opts.signal);
  }

  private pump(): void {
    while (this.running < DOWNLOAD_CONCURRENCY && this.queue.length > 0) {
      const blob = this.queue.shift()!;
      this.running++;
      this.fetched++;
      void blob.start().then(() => {
        this.running--;
        // The first failure stops the others: the pull fails with it, their partial files stay.
        // (A download stopped on purpose, by discard or stopAll, stops nothing else.)
        const failed = blob.failed;
        if (failed !== undefined && !(failed instanceof Error && failed.name === 'AbortError') && !(failed instanceof DOMException)) for (const other of this.downloads.values()) if (other !== blob) other.abort(blob.failed);
        this.pump();
      });
    }
  }

  /** After a failed store: the first failure among the opened downloads, once they have ended. */
  async downloadFailure(): Promise<unknown> {
    for (const digest of this.opened) {
      const blob = this.downloads.get(digest)!;
      await blob.settled;
      const failed = blob.failed;
      if (failed !== undefined && !(failed instanceof Error && failed.name === 'AbortError') && !(failed instanceof DOMException)) return failed;
    }
    return undefined;
  }

  /**
   * After a failed store (every opened download ended, see downloadFailure): the ones that
   * had reused an earlier pull's bytes and failed start over from byte 0 (their partial
   * files removed). False when there is none to retry.
   */
  async restartResumed(): Promise<boolean> {
    if (this.opts.signal?.aborted) return false;
    // Only a download that failed its own check: one that verified had the right bytes, and
    // the extraction's failure is then the layer's own (a hostile tar), not worth a retry.
    const stale = [...this.opened].map((d) => this.downloads.get(d)!).filter((b) => b.resumedFrom > 0 && b.failed !== undefined);
    if (stale.length === 0) return false;
    for (const blob of stale) {
      await blob.discard();
      blob.close();
      this.downloads.delete(blob.descriptor.digest);
    }
    // The others were stopped by the failure: they resume where they are.
    for (const [digest, blob] of [...this.downloads]) {
      if (blob.failed === undefined) continue;
      blob.close();
      this.downloads.delete(digest);
    }
    this.opened.clear();
    this.fetched = 0;
    return true;
  }

  async discardOpenedVerified(): Promise<void> {
    for (const digest of this.opened) {
      const blob = this.downloads.get(digest)!;
      if (blob.failed === undefined) await blob.discard();
    }
  }

  /** Remove every partial file: the layers are in the store. */
  async discardAll(): Promise<void> {
    for (const blob of this.downloads.values()) await blob.discard();
  }

  /** Stop what still runs, wait for it (its file closed), release the readers. */
  async stopAll(): Promise<void> {
    for (const blob of this.downloads.values()) blob.abort();
    for (const blob of this.downloads.values()) {
      await blob.settled;
      blob.close();
    }
  }
}
