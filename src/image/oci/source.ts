/**
 * What is at ARCHIVE, told by content, never by name, and the one image it holds:
 * - a directory with `oci-layout` → OCI image layout; with `manifest.json` + `version`
 *   → containers-image `dir:`; any other directory → a rootfs directory;
 * - a tar file with `manifest.json` → docker-archive (several images: ARCHIVE:TAG picks
 *   one); with `oci-layout` + `index.json` → oci-archive; any other tar → a rootfs tarball.
 * (Whole-archive compression is undone before this: see archive-open.ts.)
 * Every document is bounded and schema-checked, every digest verified as a string here
 * and against the bytes (config here, layers while they are extracted).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Compression } from './decompress.js';
import { UnsafeNameError } from '../entry-path.js';
import { PaxFormatError } from '../pax.js';
import { TarFormatError } from '../tar-header.js';
import { DirBlobs, TarBlobs, type Blob, type Blobs } from './blobs.js';
import { hexOf, sha256, type Digest } from './digest.js';
import {
  dockerArchiveManifestSchema,
  imageConfigSchema,
  indexSchema,
  isIndexMedia,
  LAYER_MEDIA,
  manifestSchema,
  MAX_DOCUMENT_BYTES,
  parseDocument,
  selectForPlatform,
  type Descriptor,
  type ImageConfig,
  type ImageIndex as ImageIndexDoc,
} from './documents.js';

export type SourceFormat = 'docker-archive' | 'oci-archive' | 'oci-layout' | 'containers-dir' | 'registry';

export interface SourceLayer {
  diffId: Digest;
  /** Digest of the blob as stored (compressed); null where the format names none (docker-archive). */
  digest: Digest | null;
  compression: Compression | 'sniff';
  blob: Blob;
}

export interface SourceImage {
  format: SourceFormat;
  repoTags: string[];
  configDigest: Digest;
  configBytes: Buffer;
  config: ImageConfig;
  layers: SourceLayer[];
}

export class SourceError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** Decide what a path holds. `null`: not an image (a rootfs tarball or directory). */
export function detectFormat(path: string): { format: SourceFormat; blobs: Blobs } | null {
  const st = statSync(path);
  if (st.isDirectory()) {
    const dir = new DirBlobs(path);
    if (dir.has('oci-layout')) return { format: 'oci-layout', blobs: dir };
    if (dir.has('manifest.json') && dir.has('version')) return { format: 'containers-dir', blobs: dir };
    return null;
  }
  if (!firstMemberLooksLikeImage(path)) return null; // a rootfs tarball: not indexed for nothing
  let tar: TarBlobs;
  try {
    tar = new TarBlobs(path);
  } catch (err) {
    // A broken tar is the rootfs extractor's to report, in its words.
    if (err instanceof TarFormatError || err instanceof PaxFormatError || err instanceof UnsafeNameError) return null;
    throw err;
  }
  if (tar.members.has('manifest.json')) return { format: 'docker-archive', blobs: tar };
  if (tar.members.has('oci-layout') && tar.members.has('index.json')) return { format: 'oci-archive', blobs: tar };
  return null;
}

/**
 * Image archives begin with one of their own pieces (podman, docker, skopeo: a layer
 * <hex>.tar or <hex>/, a config, manifest.json, oci-layout, index.json, blobs/); rootfs
 * tarballs with "./" or a directory of the tree. Only the first header is read.
 */
function firstMemberLooksLikeImage(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const block = Buffer.alloc(512);
    if (readSync(fd, block, 0, 512, 0) !== 512) return false;
    if (block.toString('latin1', 257, 262) !== 'ustar') return false;
    const type = String.fromCharCode(block[156]!);
    // A PAX or GNU long-name header first: look no further, index the archive.
    if (type === 'x' || type === 'L' || type === 'g') return true;
    const nul = block.indexOf(0);
    return looksLikeImageMember(block.toString('utf8', 0, nul === -1 || nul > 100 ? 100 : nul));
  } finally {
    closeSync(fd);
  }
}

/** Image archives start with one of these members. */
export function looksLikeImageMember(name: string): boolean {
  const n = name.replace(/^\.\//, '');
  // podman/docker write <hex>.tar, <hex>.json or <hex>/ first; other writers top-level *.tar / *.json.
  return /^(manifest\.json|oci-layout|index\.json|repositories|blobs(\/|$)|[0-9a-f]{64}(\.tar|\.json|\/|$)|[^/]+\.(tar|json)$)/.test(n);
}

export function loadSourceImage(format: SourceFormat, blobs: Blobs, selector: string | null): SourceImage {
  switch (format) {
    case 'docker-archive':
      return fromDockerArchive(blobs, selector);
    case 'oci-archive':
    case 'oci-layout':
      return fromOciLayout(format, blobs, selector);
    case 'containers-dir':
      return fromManifest(format, blobs, readDoc(blobs, 'manifest.json', 'manifest.json'), (d) => hexOf(d), []);
    case 'registry':
      throw new SourceError('an image of a registry is pulled (pull-image.ts), not loaded from a path');
  }
}

function readDoc(blobs: Blobs, name: string, what: string): Buffer {
  const blob = blobs.get(name);
  if (blob === null) throw new SourceError(`${what} is missing`);
  if (blob.size > MAX_DOCUMENT_BYTES) throw new SourceError(`${what} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  return blob.read(MAX_DOCUMENT_BYTES);
}

/** A blob named by a descriptor: present, the size the descriptor says; its digest is checked when read. */
function describedBlob(blobs: Blobs, d: Descriptor, nameOf: (d: Digest) => string, what: string): Blob {
  const blob = blobs.get(nameOf(d.digest as Digest));
  if (blob === null) {
    const foreign = d.urls !== undefined && d.urls.length > 0 ? ' (a non-distributable layer: tsbox never fetches its URLs)' : '';
    throw new SourceError(`${what} ${d.digest} is missing from the archive${foreign}`);
  }
  if (blob.size !== d.size) throw new SourceError(`${what} ${d.digest} is ${blob.size} bytes, the manifest says ${d.size}`);
  return blob;
}

function readVerified(blobs: Blobs, d: Descriptor, nameOf: (d: Digest) => string, what: string): Buffer {
  if (d.size > MAX_DOCUMENT_BYTES) throw new SourceError(`${what} ${d.digest} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  const bytes = describedBlob(blobs, d, nameOf, what).read(MAX_DOCUMENT_BYTES);
  if (sha256(bytes) !== d.digest) throw new SourceError(`${what} does not match its digest ${d.digest}`);
  return bytes;
}

function fromOciLayout(format: SourceFormat, blobs: Blobs, selector: string | null): SourceImage {
  const nameOf = (d: Digest): string => `blobs/sha256/${hexOf(d)}`;
  const index = parseDocument(readDoc(blobs, 'index.json', 'index.json'), indexSchema, 'index.json');
  const refName = (d: Descriptor): string | undefined => d.annotations?.['org.opencontainers.image.ref.name'];
  let chosen: Descriptor[];
  if (selector !== null) {
    chosen = index.manifests.filter((m) => matchesName(refName(m), selector));
    if (chosen.length === 0) throw new SourceError(`no image named ${JSON.stringify(selector)} in the archive`, listHint(index.manifests.map(refName)));
  } else {
    chosen = index.manifests;
    const names = new Set(chosen.map(refName));
    if (names.size > 1) throw new SourceError(`the archive holds ${names.size} images: pick one with ARCHIVE:NAME`, listHint([...names]));
  }
  const first = chosen[0];
  if (first === undefined) throw new SourceError('index.json lists no image');
  let desc: Descriptor = first;
  const tags = [...new Set(chosen.map(refName).filter((n): n is string => n !== undefined && n.includes('/')))];
  for (let depth = 0; isIndexMedia(desc.mediaType); depth++) {
    if (depth >= 4) throw new SourceError('indexes nested more than 4 deep');
    const nested: ImageIndexDoc = parseDocument(readVerified(blobs, desc, nameOf, 'index'), indexSchema, `index ${desc.digest}`);
    const next: Descriptor | undefined = selectForPlatform(nested)[0];
    if (next === undefined) throw new SourceError(`index ${desc.digest} has no image for linux/amd64`);
    desc = next;
  }
  return fromManifest(format, blobs, readVerified(blobs, desc, nameOf, 'manifest'), nameOf, tags);
}

/** An image manifest whose blobs are in `blobs` (an archive, a layout, or the pulled blobs under the state root). */
export function fromManifest(format: SourceFormat, blobs: Blobs, bytes: Buffer, nameOf: (d: Digest) => string, repoTags: string[]): SourceImage {
  const manifest = parseDocument(bytes, manifestSchema, 'manifest');
  const configBytes = readVerified(blobs, manifest.config, nameOf, 'config');
  const config = parseDocument(configBytes, imageConfigSchema, 'image config');
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new SourceError(`the manifest lists ${manifest.layers.length} layers, the config ${diffIds.length} diff_ids`);
  }
  const layers = manifest.layers.map((d, i): SourceLayer => {
    const compression = LAYER_MEDIA[d.mediaType];
    if (compression === undefined) throw new SourceError(`layer ${d.digest}: unsupported media type ${d.mediaType}`);
    return { diffId: diffIds[i] as Digest, digest: d.digest as Digest, compression, blob: describedBlob(blobs, d, nameOf, 'layer') };
  });
  return { format, repoTags, configDigest: manifest.config.digest as Digest, configBytes, config, layers };
}

function fromDockerArchive(blobs: Blobs, selector: string | null): SourceImage {
  const entries = parseDocument(readDoc(blobs, 'manifest.json', 'manifest.json'), dockerArchiveManifestSchema, 'manifest.json');
  let entry = entries[0]!;
  if (selector !== null) {
    const found = entries.filter((e) => (e.RepoTags ?? []).some((t) => matchesName(t, selector)));
    if (found.length !== 1) throw new SourceError(`no image named ${JSON.stringify(selector)} in the archive`, listHint(entries.flatMap((e) => e.RepoTags ?? [])));
    entry = found[0]!;
  } else if (entries.length > 1) {
    throw new SourceError(`the archive holds ${entries.length} images: pick one with ARCHIVE:TAG`, listHint(entries.flatMap((e) => e.RepoTags ?? ['<untagged>'])));
  }
  const configBlob = blobs.get(entry.Config);
  if (configBlob === null) throw new SourceError(`config ${entry.Config} is missing from the archive`);
  if (configBlob.size > MAX_DOCUMENT_BYTES) throw new SourceError(`config ${entry.Config} is too large`);
  const configBytes = configBlob.read(MAX_DOCUMENT_BYTES);
  const configDigest = sha256(configBytes);
  // The config's file name is its digest in every docker-archive writer: a mismatch is a lie.
  const named = /^(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(entry.Config);
  if (named !== null && `sha256:${named[1]}` !== configDigest) throw new SourceError(`config ${entry.Config} does not match its digest`);
  const config = parseDocument(configBytes, imageConfigSchema, 'image config');
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== entry.Layers.length) throw new SourceError(`manifest.json lists ${entry.Layers.length} layers, the config ${diffIds.length} diff_ids`);
  const layers = entry.Layers.map((name, i): SourceLayer => {
    const blob = blobs.get(name);
    if (blob === null) throw new SourceError(`layer ${name} is missing from the archive`);
    return { diffId: diffIds[i] as Digest, digest: null, compression: 'sniff', blob };
  });
  return { format: 'docker-archive', repoTags: (entry.RepoTags ?? []).filter((t) => t.length > 0), configDigest, configBytes, config, layers };
}

/** "localhost/app:v1" matches itself, "app:v1", "localhost/app" and "app" (→ :latest), and bare tags "v1" of an OCI ref.name. */
export function matchesName(name: string | undefined, selector: string): boolean {
  if (name === undefined) return false;
  if (name === selector) return true;
  const withTag = /:[^/]+$/.test(selector) ? selector : `${selector}:latest`;
  if (name === withTag) return true;
  return name.endsWith(`/${withTag}`);
}

function listHint(names: Array<string | undefined>): string {
  const list = names.filter((n): n is string => n !== undefined);
  return list.length === 0 ? 'The archive names none of its images.' : `It holds: ${list.join(', ')}.`;
}

