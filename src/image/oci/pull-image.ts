/**
 * REF → an image in the store, as `docker pull` leaves it: the registry client fetches the
 * manifest, the config and the missing layer blobs into <root>/blobs (each verified; a
 * killed download resumes from its partial file), then the layers are extracted once each
 * by diff_id into the layer store (shared with every archive's image) and the record is
 * published with the reference as its tag. The blob directory is read as any other image
 * source (source.ts fromManifest), so the same checks apply: sizes against descriptors,
 * the config against its digest, each blob and each diff_id while it is extracted.
 */
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import type { BlobProgress } from '../../registry/fetch-blob.js';
import type { TlsSettings } from '../../registry/tls-policy.js';
import { gcImageTemps } from '../temp-dirs.js';
import { DirBlobs } from './blobs.js';
import { hexOf, type Digest } from './digest.js';
import { asLoadError, storeImage, type LoadResult } from './load.js';
import { fromManifest } from './source.js';

export interface PullImageOptions extends TlsSettings {
  root: string;
  maxBytes: number;
  maxEntries?: number;
  log: Logger;
  signal?: AbortSignal;
  progress?: BlobProgress & { plan?(digests: string[], present: Set<string>): void };
}

export type PulledImage = LoadResult & { kind: 'image'; manifestDigest: string; fetched: number };

export async function pullImage(refText: string, opts: PullImageOptions): Promise<PulledImage> {
  const { pullToCache } = await import('../../registry/pull.js');
  const { formatReference } = await import('../../registry/reference.js');
  // --debug/--explain: each request, document and blob is logged under its step (registry/trace.ts).
  const trace = opts.log.enabled('debug') ? (step: string, msg: string) => opts.log.debug({ step }, msg) : undefined;
  const pulled = await pullToCache(refText, { root: opts.root, tlsVerify: opts.tlsVerify, insecureRegistries: opts.insecureRegistries, certDir: opts.certDir, signal: opts.signal, progress: opts.progress, trace });
  const ref = pulled.image.reference;
  // A digest-only reference names no tag: the image is stored untagged, as docker does.
  const tags = ref.tag === undefined ? [] : [formatReference({ ...ref, digest: undefined })];
  const blobs = new DirBlobs(join(opts.root, 'blobs'));
  await gcImageTemps(opts.root, opts.log); // what a killed pull or load left half-extracted
  try {
    const source = fromManifest('registry', blobs, pulled.image.manifestBytes, (d: Digest) => `sha256/${hexOf(d)}`, tags);
    const stored = await storeImage(source, { path: formatReference(ref), format: 'registry' }, opts);
    return { ...stored, manifestDigest: pulled.image.manifestDigest, fetched: pulled.fetched };
  } catch (err) {
    throw asLoadError(err, refText);
  }
}
