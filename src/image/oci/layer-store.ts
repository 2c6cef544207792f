/**
 * The layer store: each layer extracted once, under its diff_id, whatever image brought
 * it. Extraction verifies both digests: the blob's (compressed bytes, when the format
 * names it) and the diff_id (sha256 of the decompressed stream to its very end, not to the
 * tar end marker: zstd:chunked puts data after it). A layer goes live by one rename
 * of a complete tree with its marker; a crash leaves only a temp dir that `gc` reclaims.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, promises as fs, readSync } from 'node:fs';
import { readArchiveFile } from '../archive-hash.js';
import { DEFAULT_MAX_ROOTFS_ENTRIES } from '../prepare.js';
import { join } from 'node:path';
import { z } from 'zod';
import { RootfsError } from '../errors.js';
import { extractArchive } from '../extract.js';
import { lockFile, unlock } from '../locks.js';
import { removeTree } from '../remove-tree.js';
import { reserveTempDir } from '../temp-dirs.js';
import { decompress, DecompressError, sniffCompression, type Compression } from './decompress.js';
import type { Digest } from './digest.js';
import { layerDir, layerLock, layersDir } from './store-layout.js';
import type { SourceLayer } from './source.js';
import { peekStream } from '../peek.js';

const markerSchema = z.object({
  diffId: z.string(),
  /** Set when the entry is keyed by the chain id (see ensureLayer), null when by diff_id. */
  chainId: z.string().nullable().default(null),
  digest: z.string().nullable(),
  contentBytes: z.number().int().nonnegative(),
  entries: z.number().int().nonnegative(),
  /** Hard links to files of lower layers ([path, target]): the image must be flattened. */
  crossLayerLinks: z.array(z.tuple([z.string(), z.string()])).default([]),
});
export type LayerMarker = z.infer<typeof markerSchema>;

export interface LayerOptions {
  root: string;
  /** Bound on a layer's file content (and, with slack for tar headers, on its decompressed bytes). */
  maxBytes: number;
  /** Bound on a layer's members (DEFAULT_MAX_ROOTFS_ENTRIES when not given). */
  maxEntries?: number;
}

export interface EnsuredLayer {
  diffId: Digest;
  /** The store entry's name: the diff_id, or the chain id for a layer whose metadata depends on the layers below. */
  key: Digest;
  chainId: Digest;
  tree: string;
  /** False when the store already had it. */
  extracted: boolean;
  /** Hard links into lower layers: stacking cannot show them, the image is flattened. */
  crossLayerLinks: number;
  contentBytes: number;
}

export async function readLayerMarker(root: string, key: string): Promise<LayerMarker | null> {
  try {
    const parsed = markerSchema.safeParse(JSON.parse(await fs.readFile(join(layerDir(root, key), 'layer.json'), 'utf8')));
    if (!parsed.success) return null;
    const m = parsed.data;
    return (m.chainId === null ? m.diffId : m.chainId) === key ? m : null;
  } catch {
    return null;
  }
}

/** The image spec's ChainID: the diff_id for the first layer, then sha256(parent + " " + diff_id). */
export function chainIdOf(parent: Digest | null, diffId: Digest): Digest {
  return parent === null ? diffId : (`sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}` as Digest);
}

/**
 * The layer in the store, extracted if missing. Keyed by diff_id, so every image with the
 * layer shares one copy, except a layer that creates directories it never lists
 * ("a/b" without "a/"): those take the metadata of the same directory in the layers below
 * (overlay shows the topmost directory's owner and mode), which depends on the base, so
 * such a layer is keyed by its chain id instead. `below`: the image's lower layers, in order.
 */
export async function ensureLayer(layer: SourceLayer, below: EnsuredLayer[], opts: LayerOptions): Promise<EnsuredLayer> {
  const { root } = opts;
  const chainId = chainIdOf(below.length === 0 ? null : below[below.length - 1]!.chainId, layer.diffId);
  const found = async (): Promise<EnsuredLayer | null> => {
    for (const key of [layer.diffId, chainId]) {
      const m = await readLayerMarker(root, key);
      if (m !== null) return { diffId: layer.diffId, key, chainId, tree: join(layerDir(root, key), 'tree'), extracted: false, contentBytes: m.contentBytes, crossLayerLinks: m.crossLayerLinks.length };
    }
    return null;
  };
  const have = await found();
  if (have !== null) return have;
  await fs.mkdir(join(layersDir(root), '.locks'), { recursive: true, mode: 0o700 });
  await fs.mkdir(join(root, 'rootfs', '.locks'), { recursive: true, mode: 0o700 });
  const lock = await lockFile(layerLock(root, layer.diffId));
  try {
    const again = await found();
    if (again !== null) return again;
    const temp = await reserveTempDir(root);
    try {
      await fs.mkdir(temp.path, { mode: 0o700 });
      const tree = join(temp.path, 'tree');
      await fs.mkdir(tree, { mode: 0o755 });
      const { marker, implicitDirs } = await extractLayer(layer, tree, opts.maxBytes, opts.maxEntries ?? DEFAULT_MAX_ROOTFS_ENTRIES);
      const fixed = await inheritDirMetadata(tree, implicitDirs, [...below].reverse().map((l) => l.tree));
      const key = fixed > 0 ? chainId : layer.diffId;
      const final: LayerMarker = { ...marker, chainId: fixed > 0 ? chainId : null };
      await fs.writeFile(join(temp.path, 'layer.json'), JSON.stringify(final) + '\n');
      const target = layerDir(root, key);
      // A damaged entry (marker missing) in the way is removed first.
      await removeTree(target);
      await fs.rename(temp.path, target);
      return { diffId: layer.diffId, key, chainId, tree: join(target, 'tree'), extracted: true, contentBytes: marker.contentBytes, crossLayerLinks: marker.crossLayerLinks.length };
    } finally {
      await temp.release();
    }
  } finally {
    unlock(lock);
  }
}

/**
 * Give each implicitly created directory the owner, mode and times of the same directory
 * in the highest lower layer that has it (reached without symlinks). Returns how many.
 */
async function inheritDirMetadata(tree: string, implicitDirs: string[], lowersTopFirst: string[]): Promise<number> {
  let fixed = 0;
  for (const rel of implicitDirs) {
    if (!(await isRealDirPath(tree, rel))) continue;
    for (const lower of lowersTopFirst) {
      if (!(await isRealDirPath(lower, rel))) continue;
      const st = await fs.lstat(bytesUnder(lower, rel));
      const here = bytesUnder(tree, rel);
      await fs.lchown(here, st.uid, st.gid);
      await fs.chmod(here, st.mode & 0o7777);
      await fs.utimes(here, st.atime, st.mtime);
      fixed++;
      break;
    }
  }
  return fixed;
}

/** `rel` is a byte string (member names are bytes, see entry-path.ts): the path as those bytes. */
function bytesUnder(base: string, rel: string): Buffer {
  return Buffer.concat([Buffer.from(`${base}/`), Buffer.from(rel, 'latin1')]);
}

/** Is `rel` a directory under `base` with no symlink on the way? */
async function isRealDirPath(base: string, rel: string): Promise<boolean> {
  let prefix = '';
  for (const part of rel.split('/')) {
    prefix = prefix === '' ? part : `${prefix}/${part}`;
    try {
      if (!(await fs.lstat(bytesUnder(base, prefix))).isDirectory()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function extractLayer(layer: SourceLayer, tree: string, maxBytes: number, maxEntries: number): Promise<{ marker: LayerMarker; implicitDirs: string[] }> {
  const file = layer.blob.file;
  if (file !== undefined && sniffCompression(readHead(file.path, file.offset, Math.min(8, layer.blob.size))) === 'none') {
    return extractPlainLayer(layer, tree, maxBytes, maxEntries, file);
  }
  // A blob that streams in (a pull) takes this path whatever its compression: the bytes
  // are hashed here (the blob's digest) and by the extractor (the diff_id), both checked
  // once the stream has ended, before anything is committed.
  const blobHash = createHash('sha256');
  const tapped = tap(layer.blob.open(), blobHash);
  const { head, rest } = await peekStream(tapped, 8);
  const sniffed = sniffCompression(head);
  if (sniffed === 'bzip2') throw new RootfsError(`layer ${layer.diffId}: bzip2 layers are not supported`);
  const kind: Compression = sniffed;
  // Tar headers and padding are not file content: allow them some room beyond maxBytes.
  const plain = decompress(rest, kind, maxBytes + 1024 ** 3);
  let result;
  try {
    result = await extractArchive(plain, tree, { maxBytes, maxEntries, layer: true });
  } catch (err) {
    throw layerError(layer, err);
  }
  const blobDigest = `sha256:${blobHash.digest('hex')}`;
  if (layer.digest !== null && blobDigest !== layer.digest) throw new RootfsError(`layer ${layer.digest}: the blob's bytes do not match its digest (got ${blobDigest})`);
  if (result.digest !== layer.diffId) throw new RootfsError(`layer ${layer.diffId}: the uncompressed bytes do not match the config's diff_id (got ${result.digest})`);
  return {
    marker: { diffId: layer.diffId, chainId: null, digest: layer.digest, contentBytes: result.contentBytes, entries: result.entries, crossLayerLinks: result.crossLayerLinks },
    implicitDirs: result.implicitDirs,
  };
}

/**
 * An uncompressed layer (docker-archive's, or an OCI tar layer): read straight from its
 * file by the rootfs reader, which hashes on a worker thread while the main thread
 * extracts; its one digest is both the blob's and the diff_id.
 */
async function extractPlainLayer(layer: SourceLayer, tree: string, maxBytes: number, maxEntries: number, file: { path: string; offset: number }): Promise<{ marker: LayerMarker; implicitDirs: string[] }> {
  let result;
  try {
    result = await extractArchive(readArchiveFile(file.path, { start: file.offset, length: layer.blob.size }), tree, { maxBytes, maxEntries, layer: true });
  } catch (err) {
    throw layerError(layer, err);
  }
  if (layer.digest !== null && result.digest !== layer.digest) throw new RootfsError(`layer ${layer.digest}: the blob's bytes do not match its digest (got ${result.digest})`);
  if (result.digest !== layer.diffId) throw new RootfsError(`layer ${layer.diffId}: the uncompressed bytes do not match the config's diff_id (got ${result.digest})`);
  return {
    marker: { diffId: layer.diffId, chainId: null, digest: layer.digest, contentBytes: result.contentBytes, entries: result.entries, crossLayerLinks: result.crossLayerLinks },
    implicitDirs: result.implicitDirs,
  };
}

function readHead(path: string, offset: number, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, offset));
  } finally {
    closeSync(fd);
  }
}

function layerError(layer: SourceLayer, err: unknown): unknown {
  const cause = err instanceof Error && err.cause instanceof DecompressError ? err.cause : err;
  if (cause instanceof DecompressError) return new RootfsError(`layer ${layer.digest ?? layer.diffId}: ${cause.message}`, { cause });
  if (err instanceof RootfsError) {
    err.message = err.message.replace(/^rootfs archive/, `layer ${layer.digest ?? layer.diffId}`);
  }
  return err;
}

async function* tap(input: AsyncIterable<Buffer>, hash: ReturnType<typeof createHash>): AsyncIterable<Buffer> {
  for await (const chunk of input) {
    hash.update(chunk);
    yield chunk;
  }
}


/** Every layer in the store (diff_ids), complete or not. */
export async function listLayerIds(root: string): Promise<Digest[]> {
  try {
    return (await fs.readdir(layersDir(root))).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((h) => `sha256:${h}` as Digest);
  } catch {
    return [];
  }
}

/** Remove a layer: renamed out of sight first (nobody sees half a layer), then deleted. */
export async function removeLayer(root: string, diffId: string): Promise<void> {
  await fs.mkdir(join(root, 'rootfs', '.locks'), { recursive: true, mode: 0o700 }); // reserveTempDir needs its directory
  const temp = await reserveTempDir(root);
  try {
    await fs.rename(layerDir(root, diffId), temp.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  } finally {
    await temp.release();
  }
}
