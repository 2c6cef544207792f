/**
 * Image records, tags and layer references. A layer is removed only when no image record
 * and no reference (a container's, or a load in progress) names it; every change to
 * records, tags and references happens under one lock, so a removal never races a
 * reference being taken.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { lockFile, tryLockFile, unlock } from '../locks.js';
import { removeTree } from '../remove-tree.js';
import { digestSchema, hexOf, type Digest } from './digest.js';
import { listLayerIds, removeLayer } from './layer-store.js';
import { configPath, imagesDir, imagesLock, recordPath, recordsDir, refsDir } from './store-layout.js';

export const imageRecordSchema = z.object({
  id: digestSchema,
  diffIds: z.array(digestSchema),
  /** The layers' entries in the store (layer-store.ts: the diff_id, or the chain id), bottom first. */
  layerKeys: z.array(digestSchema),
  /** Blob digests as the source named them (null: docker-archive names none). */
  layerDigests: z.array(digestSchema.nullable()),
  repoTags: z.array(z.string()),
  source: z.object({ path: z.string(), format: z.string() }),
  created: z.string().nullable(),
  loadedAt: z.string(),
  /** Bytes of file content over all layers. */
  size: z.number().int().nonnegative(),
});
export type ImageRecord = z.infer<typeof imageRecordSchema>;

const refSchema = z.object({ ref: z.string().regex(/^[0-9a-z-]{1,64}$/), imageId: digestSchema, layerKeys: z.array(digestSchema), holder: z.string() });
/** A holder's references to an image's layers: kept by the holder, given back to release(). */
export type LayerRefs = z.infer<typeof refSchema>;

export async function withImagesLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  await fs.mkdir(join(imagesDir(root), 'configs'), { recursive: true, mode: 0o700 });
  await fs.mkdir(recordsDir(root), { recursive: true, mode: 0o700 });
  await fs.mkdir(refsDir(root), { recursive: true, mode: 0o700 });
  const lock = await lockFile(imagesLock(root));
  try {
    return await fn();
  } finally {
    unlock(lock);
  }
}

let tempCounter = 0;

/** Writers hold the images lock: the pid and a counter make a name no other writer uses (no crypto loaded for it on a run's path). */
async function writeAtomic(path: string, text: string | Buffer): Promise<void> {
  const temp = `${path}.${process.pid}-${++tempCounter}`;
  await fs.writeFile(temp, text, { mode: 0o600 });
  await fs.rename(temp, path);
}

export async function readRecord(root: string, id: string): Promise<ImageRecord | null> {
  try {
    const parsed = imageRecordSchema.safeParse(JSON.parse(await fs.readFile(recordPath(root, id), 'utf8')));
    return parsed.success && parsed.data.id === id ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function listRecords(root: string): Promise<ImageRecord[]> {
  let names: string[];
  try {
    names = await fs.readdir(recordsDir(root));
  } catch {
    return [];
  }
  const out: ImageRecord[] = [];
  for (const n of names) {
    const m = /^([0-9a-f]{64})\.json$/.exec(n);
    if (m === null) continue;
    const r = await readRecord(root, `sha256:${m[1]}`);
    if (r !== null) out.push(r);
  }
  return out.sort((a, b) => b.loadedAt.localeCompare(a.loadedAt));
}

export async function readConfigBytes(root: string, id: string): Promise<Buffer> {
  return fs.readFile(configPath(root, id));
}

/** Publish (or update) a record; its tags move to it from any other image. Caller holds the lock. */
export async function putRecord(root: string, record: ImageRecord, configBytes?: Buffer): Promise<void> {
  if (configBytes !== undefined) await writeAtomic(configPath(root, record.id), configBytes);
  for (const other of await listRecords(root)) {
    if (other.id === record.id) continue;
    const kept = other.repoTags.filter((t) => !record.repoTags.includes(t));
    if (kept.length !== other.repoTags.length) await writeAtomic(recordPath(root, other.id), JSON.stringify({ ...other, repoTags: kept }));
  }
  await writeAtomic(recordPath(root, record.id), JSON.stringify(record));
}

/** A name (repo:tag, short name, id or unique id prefix) → the image. */
export function resolveImage(records: ImageRecord[], text: string): ImageRecord | { error: string } {
  const withTag = /:[^/]+$/.test(text) ? text : `${text}:latest`;
  const byTag = records.filter((r) => r.repoTags.some((t) => t === text || t === withTag || t.endsWith(`/${withTag}`)));
  if (byTag.length === 1) return byTag[0]!;
  if (byTag.length > 1) return { error: `${text} names several images: ${byTag.flatMap((r) => r.repoTags).join(', ')}` };
  const hex = text.startsWith('sha256:') ? text.slice(7) : text;
  if (/^[0-9a-f]{4,64}$/.test(hex)) {
    const byId = records.filter((r) => hexOf(r.id).startsWith(hex));
    if (byId.length === 1) return byId[0]!;
    if (byId.length > 1) return { error: `${text} is an ambiguous image id prefix` };
  }
  return { error: `no such image: ${text}` };
}

/** Take references to an image's layers for a holder (a container): they outlive the image's removal. */
export async function acquireLayers(root: string, imageId: string, holder: string): Promise<LayerRefs> {
  return withImagesLock(root, async () => {
    const record = await readRecord(root, imageId);
    if (record === null) throw new Error(`no such image: ${imageId}`);
    return writeRef(root, { ref: randomBytes(12).toString('hex'), imageId: record.id, layerKeys: record.layerKeys, holder });
  });
}

/** Caller holds the lock. */
export async function writeRef(root: string, refs: LayerRefs): Promise<LayerRefs> {
  await writeAtomic(join(refsDir(root), `${refs.ref}.json`), JSON.stringify(refs));
  return refs;
}

/** Give references back; the layers stay until an rmi or prune finds them unused. */
export async function release(root: string, refs: LayerRefs): Promise<void> {
  await releaseRef(root, refs.ref);
}

/** Drop the reference named `ref`; nothing to do when it is gone (idempotent, for gc). */
export async function releaseRef(root: string, ref: string): Promise<void> {
  if (!/^[0-9a-z-]{1,64}$/.test(ref)) throw new Error(`invalid layer reference name ${JSON.stringify(ref)}`);
  await withImagesLock(root, async () => {
    await fs.rm(join(refsDir(root), `${ref}.json`), { force: true });
  });
}

async function referencedLayers(root: string): Promise<Set<string>> {
  const used = new Set<string>();
  for (const r of await listRecords(root)) for (const d of r.layerKeys) used.add(d);
  let names: string[] = [];
  try {
    names = await fs.readdir(refsDir(root));
  } catch {
    // none
  }
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    // A load's reference lives as long as its process: the lock beside it says so.
    if (n.startsWith('load-') && (await dropIfDead(root, n))) continue;
    try {
      const parsed = refSchema.safeParse(JSON.parse(await fs.readFile(join(refsDir(root), n), 'utf8')));
      // An unreadable reference file keeps nothing alive: it cannot name anything.
      if (parsed.success) for (const d of parsed.data.layerKeys) used.add(d);
    } catch {
      // skipped
    }
  }
  return used;
}

/**
 * A load holds `<ref>.lock` flocked while it runs; a lock that can be taken means the
 * load died (SIGKILL): its reference is removed and keeps nothing alive.
 */
async function dropIfDead(root: string, name: string): Promise<boolean> {
  const lockPath = join(refsDir(root), name.replace(/\.json$/, '.lock'));
  let lock;
  try {
    lock = tryLockFile(lockPath, false);
  } catch {
    lock = null; // no lock file: its owner has not created it yet or already finished
    await fs.rm(join(refsDir(root), name), { force: true }).catch(() => {});
    return true;
  }
  if (lock === null) return false;
  try {
    await fs.rm(join(refsDir(root), name), { force: true });
    await fs.rm(lockPath, { force: true });
  } finally {
    unlock(lock);
  }
  return true;
}

/** Hold a load's reference for as long as this process lives (see dropIfDead). Caller holds the images lock. */
export async function writeLoadRef(root: string, imageId: string, layerKeys: string[]): Promise<{ refs: LayerRefs; release(): Promise<void> }> {
  const ref = `load-${randomBytes(8).toString('hex')}`;
  const lockPath = join(refsDir(root), `${ref}.lock`);
  await fs.writeFile(lockPath, '', { flag: 'wx', mode: 0o600 });
  const lock = tryLockFile(lockPath, false)!;
  const refs = await writeRef(root, { ref, imageId, layerKeys, holder: `load pid ${process.pid}` });
  return {
    refs,
    async release() {
      await withImagesLock(root, async () => {
        await fs.rm(join(refsDir(root), `${ref}.json`), { force: true });
        await fs.rm(lockPath, { force: true });
      });
      unlock(lock);
    },
  };
}

/** Remove layers nothing references. Caller holds the lock. Returns the removed diff_ids. */
export async function removeUnreferencedLayers(root: string): Promise<Digest[]> {
  const used = await referencedLayers(root);
  const removed: Digest[] = [];
  for (const id of await listLayerIds(root)) {
    if (used.has(id)) continue;
    await removeLayer(root, id);
    removed.push(id);
  }
  return removed;
}

/** rmi: drop the record (and its config), then the layers nobody else uses. Caller holds the lock. */
export async function removeImage(root: string, id: string): Promise<Digest[]> {
  await fs.rm(recordPath(root, id), { force: true });
  await fs.rm(configPath(root, id), { force: true });
  await removeTree(join(root, 'flat', hexOf(id)));
  return removeUnreferencedLayers(root);
}
