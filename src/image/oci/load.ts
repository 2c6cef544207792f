/**
 * ARCHIVE → an image in the store (or "this is a rootfs, not an image").
 * 1. ARCHIVE:NAME splits off an image name when ARCHIVE alone is not a path;
 * 2. warm: the archive's path + stat (+ NAME) is in sources.json and the image and all its
 *    layers are there: done, the archive is not even opened;
 * 3. a whole-archive gzip/zstd/xz file whose first member is an image archive's is
 *    decompressed into a spool file (its manifest may be last: it must be seekable);
 * 4. the format is told by content (source.ts); a rootfs goes back to the caller;
 * 5. the layers are referenced (so a concurrent prune keeps them), extracted once each
 *    into the layer store, the record published with its tags, the reference dropped.
 */
import { createReadStream, createWriteStream, promises as fs, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { UsageError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { statKey } from '../cache-layout.js';
import { parseIndex, withRecord, type CacheIndex } from '../cache-index.js';
import { RootfsError } from '../errors.js';
import { gcImageTemps, reserveTempDir, type TempDir } from '../temp-dirs.js';
import { decompress, sniffCompression, DecompressError } from './decompress.js';
import { DocumentError } from './documents.js';
import { acquireCheck } from './image-config-check.js';
import { putRecord, readRecord, withImagesLock, writeLoadRef, type ImageRecord } from './image-store.js';
import { chainIdOf, ensureLayer, readLayerMarker, type EnsuredLayer } from './layer-store.js';
import { detectFormat, loadSourceImage, looksLikeImageMember, SourceError, type SourceImage } from './source.js';
import { sourcesPath } from './store-layout.js';
import { TarFormatError } from '../tar-header.js';
import type { Digest } from './digest.js';

export interface LoadOptions {
  root: string;
  /** Bound on each layer's file content (--max-rootfs-size). */
  maxBytes: number;
  /** Bound on each layer's members (--max-rootfs-entries). */
  maxEntries?: number;
  log: Logger;
}

export type LoadResult =
  | { kind: 'image'; record: ImageRecord; layers: EnsuredLayer[]; warm: boolean; bytesExtracted: number }
  | { kind: 'rootfs'; path: string };

export function splitSelector(spec: string, exists: (p: string) => boolean): { path: string; selector: string | null } {
  if (exists(spec)) return { path: spec, selector: null };
  for (let i = spec.indexOf(':'); i > 0; i = spec.indexOf(':', i + 1)) {
    if (exists(spec.slice(0, i))) return { path: spec.slice(0, i), selector: spec.slice(i + 1) || null };
  }
  return { path: spec, selector: null };
}

export async function loadImage(spec: string, opts: LoadOptions): Promise<LoadResult> {
  const { path: given, selector } = splitSelector(spec, (p) => {
    try {
      return statSync(p) !== undefined;
    } catch {
      return false;
    }
  });
  const path = resolve(given);
  let st;
  try {
    st = await fs.stat(path, { bigint: true });
  } catch {
    throw new UsageError(`image archive ${given}: no such file or directory`, { step: 'load image', hint: 'Give a docker-archive, an oci-archive, an OCI layout or dir: directory, or a rootfs.' });
  }
  const key = `${statKey(path, st)}\0${selector ?? ''}`;
  if (st.isFile()) {
    const warm = await fromSources(opts.root, path, key);
    if (warm !== null) return warm;
  }
  await gcImageTemps(opts.root, opts.log); // what a killed load or run left behind
  let spool: TempDir | null = null;
  try {
    let file = path;
    if (st.isFile()) {
      const head = readHead(path, 8);
      const kind = sniffCompression(head);
      if (kind !== 'none' && kind !== 'bzip2') {
        if (!(await firstMemberIsImage(path, kind))) return { kind: 'rootfs', path };
        await fs.mkdir(join(opts.root, 'rootfs', '.locks'), { recursive: true, mode: 0o700 }); // reserveTempDir needs its directory
        spool = await reserveTempDir(opts.root);
        await fs.mkdir(spool.path, { mode: 0o700 });
        file = join(spool.path, 'archive.tar');
        await pipeline(Readable.from(decompress(createReadStream(path), kind, 1024 ** 4)), createWriteStream(file, { mode: 0o600 }));
      }
    }
    const detected = detectFormat(file);
    if (detected === null) return { kind: 'rootfs', path };
    const source = loadSourceImage(detected.format, detected.blobs, selector);
    return await storeImage(source, { path, format: detected.format }, opts, st.isFile() ? (id) => recordSource(opts.root, key, id) : undefined);
  } catch (err) {
    throw asLoadError(err, given);
  } finally {
    await spool?.release();
  }
}

/**
 * An image's documents (from an archive or a registry's blobs) into the store: its config
 * checked, its layers referenced (so a concurrent prune keeps them), extracted once each,
 * the record published with its tags (and `published` run under the same lock), the
 * reference dropped.
 */
export async function storeImage(source: SourceImage, origin: { path: string; format: string }, opts: LoadOptions, published?: (id: string) => Promise<void>): Promise<LoadResult & { kind: 'image' }> {
  acquireCheck(source.config);
  const id = source.configDigest;
  // Referenced before extraction under both names a layer may get, so a concurrent prune keeps them.
  const chainIds: Digest[] = [];
  for (const l of source.layers) chainIds.push(chainIdOf(chainIds.length === 0 ? null : chainIds[chainIds.length - 1]!, l.diffId));
  const keys = [...new Set([...source.layers.map((l) => l.diffId), ...chainIds])];
  const ref = await withImagesLock(opts.root, () => writeLoadRef(opts.root, id, keys));
  try {
    const layers: EnsuredLayer[] = [];
    for (const layer of source.layers) {
      const l = await ensureLayer(layer, layers, { root: opts.root, maxBytes: opts.maxBytes, ...(opts.maxEntries === undefined ? {} : { maxEntries: opts.maxEntries }) });
      opts.log.debug({ step: 'extract layers' }, `layer ${layers.length + 1}: ${layer.digest ? `blob ${layer.digest}, ` : ''}diff_id ${l.diffId}: ${l.extracted ? `extracted, ${l.contentBytes} bytes of files, diff_id verified` : 'already in the layer store, not extracted again'}`);
      layers.push(l);
    }
    const old = await readRecord(opts.root, id);
    const record: ImageRecord = {
      id,
      diffIds: source.layers.map((l) => l.diffId),
      layerKeys: layers.map((l) => l.key),
      layerDigests: source.layers.map((l) => l.digest),
      repoTags: [...new Set([...(old?.repoTags ?? []), ...source.repoTags])],
      source: origin,
      created: typeof source.config.created === 'string' ? source.config.created : null,
      loadedAt: new Date().toISOString(),
      size: layers.reduce((n, l) => n + l.contentBytes, 0),
    };
    await withImagesLock(opts.root, async () => {
      await putRecord(opts.root, record, source.configBytes);
      if (published) await published(id);
    });
    opts.log.debug({ step: 'write image record' }, `image ${id}: ${layers.length} layer${layers.length === 1 ? '' : 's'}${record.repoTags.length ? `, tagged ${record.repoTags.join(', ')}` : ', untagged'}`);
    const bytesExtracted = layers.filter((l) => l.extracted).reduce((n, l) => n + l.contentBytes, 0);
    opts.log.debug({ image: id, layers: layers.length, bytesExtracted }, 'image loaded');
    return { kind: 'image', record, layers, warm: false, bytesExtracted };
  } finally {
    await ref.release();
  }
}

export function asLoadError(err: unknown, given: string): unknown {
  const step = { step: 'load image' };
  if (err instanceof SourceError) return new UsageError(`${given}: ${err.message}`, { ...step, hint: err.hint });
  if (err instanceof DocumentError) return new UsageError(`${given}: ${err.message}`, step);
  if (err instanceof TarFormatError) return new RootfsError(`${given}: the archive is not a valid tar file (${err.message})`);
  if (err instanceof DecompressError) return new RootfsError(`${given}: ${err.message}`);
  if (err instanceof RootfsError) return err;
  return err;
}

function readHead(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

export { looksLikeImageMember };

async function firstMemberIsImage(path: string, kind: 'gzip' | 'zstd' | 'xz'): Promise<boolean> {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of decompress(stream, kind, 1024 * 1024)) {
      head = Buffer.concat([head, chunk]);
      if (head.length >= 512) break;
    }
  } catch {
    return false; // the rootfs path reports a corrupt archive in its words
  } finally {
    stream.destroy();
  }
  if (head.length < 512) return false;
  return looksLikeImageMember(head.toString('utf8', 0, 100).replace(/\0.*$/s, ''));
}

async function readSources(root: string): Promise<CacheIndex> {
  try {
    return parseIndex(await fs.readFile(sourcesPath(root), 'utf8'));
  } catch {
    return { version: 1, archives: {} };
  }
}

async function fromSources(root: string, path: string, key: string): Promise<LoadResult | null> {
  const rec = (await readSources(root)).archives[key];
  if (rec === undefined) return null;
  const record = await readRecord(root, rec.digest);
  if (record === null) return null;
  const layers: EnsuredLayer[] = [];
  for (const [i, key] of record.layerKeys.entries()) {
    const m = await readLayerMarker(root, key);
    if (m === null) return null;
    const chainId = (m.chainId ?? chainIdOf(i === 0 ? null : layers[i - 1]!.chainId, m.diffId as Digest)) as Digest;
    layers.push({ diffId: m.diffId as Digest, key: key as Digest, chainId, tree: join(root, 'layers', key.slice(7), 'tree'), extracted: false, contentBytes: m.contentBytes, crossLayerLinks: m.crossLayerLinks.length });
  }
  return { kind: 'image', record, layers, warm: true, bytesExtracted: 0 };
}

/** Caller holds the images lock. Keyed by path + stat + selector, so the record key is the whole key. */
async function recordSource(root: string, key: string, id: string): Promise<void> {
  const index = withRecord(await readSources(root), key, { key, digest: id });
  const temp = `${sourcesPath(root)}.${process.pid}`;
  await fs.writeFile(temp, JSON.stringify(index));
  await fs.rename(temp, sourcesPath(root));
}
