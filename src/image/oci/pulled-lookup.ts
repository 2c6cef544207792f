/**
 * REF@sha256:... already pulled: found from the store alone, no registry contacted (as
 * docker does; a digest names immutable bytes, so there is nothing to ask). A pull keeps
 * the documents it resolved (the index, the platform manifest, the config: a few KiB) in
 * <root>/blobs/sha256/<hex>; each is read bounded and checked against its digest again
 * here, the index's platform chosen as a pull would, and the image counts as present only
 * when its record and every one of its layers are in the store.
 */
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { join } from 'node:path';
import { digestOf, isDigest } from '../../registry/digest.js';
import { choosePlatform, hostPlatform, parseManifest } from '../../registry/manifest.js';
import { MAX_MANIFEST_BYTES } from '../../registry/resolve.js';
import { readRecord, type ImageRecord } from './image-store.js';
import { readLayerMarker } from './layer-store.js';

const MAX_INDEX_DEPTH = 2;

/** A kept document's bytes, or null when missing, too big, or not what its digest names. */
function readKept(root: string, digest: string): Buffer | null {
  if (!isDigest(digest) || !digest.startsWith('sha256:')) return null;
  let fd: number;
  try {
    fd = openSync(join(root, 'blobs', 'sha256', digest.slice(7)), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) return null;
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    const bytes = buf.subarray(0, n);
    return digestOf(bytes) === digest ? bytes : null;
  } finally {
    closeSync(fd);
  }
}

export interface StoredPull {
  record: ImageRecord;
  /** The platform manifest's digest (what `pull` prints). */
  manifestDigest: string;
}

/** The image a digest (of a manifest or an index) resolved to, when the store has all of it. */
export async function findPulledByDigest(root: string, digest: string): Promise<StoredPull | null> {
  let current = digest;
  for (let depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
    const bytes = readKept(root, current);
    if (bytes === null) return null;
    let parsed;
    try {
      parsed = parseManifest(bytes, undefined);
    } catch {
      return null; // the registry path reports what is wrong with it
    }
    if (parsed.kind === 'index') {
      const entry = choosePlatform(parsed.index, hostPlatform());
      if (entry === undefined) return null;
      current = entry.digest;
      continue;
    }
    const record = await readRecord(root, parsed.manifest.config.digest);
    if (record === null) return null;
    for (const key of record.layerKeys) if ((await readLayerMarker(root, key)) === null) return null;
    return { record, manifestDigest: current };
  }
  return null;
}
