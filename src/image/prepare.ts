/**
 * ROOTFS → a read-only lower tree. A directory is used as it is. An archive goes through
 * the content-addressed cache:
 * 1. index hit (same path and stat as a previous run) and a sound entry: use it, the
 *    archive is not even opened;
 * 2. otherwise take the archive's lock (one extractor per archive; the others wait and
 *    then find it in the index), extract into a temp dir while hashing, write the marker,
 *    rename the temp dir to <hex>, record the stat → digest in the index.
 * stdin (and other non-regular files) cannot be indexed: it is extracted every time, and
 * the result joins the cache under its digest.
 */
import { promises as fs } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { archiveLockPath, cacheDir, digestHex, entryDir, indexLockPath, statKey, TREE_NAME } from './cache-layout.js';
import { lookupDigest, readIndex, withRecord, writeIndex } from './cache-index.js';
import { exists, inspectEntry, touchEntry, writeMarker } from './cache-entry.js';
import { extractArchive, type ExtractProgress } from './extract.js';
import { showProgress, type ProgressOutput } from './progress.js';
import { readArchiveFile } from './archive-hash.js';
import { lockFile, unlock } from './locks.js';
import { reserveTempDir } from './temp-dirs.js';
import type { LayerHolder, LowerStack } from './run-layers.js';


export interface ImageOptions {
  /** tsbox state root, e.g. /var/lib/tsbox. */
  root: string;
  /** Limit on what an archive expands to: file content plus headers. */
  maxRootfsSize: number;
  /** Limit on the members of an archive (DEFAULT_MAX_ROOTFS_ENTRIES when not given). */
  maxRootfsEntries?: number;
  log: Logger;
  /** Stops an extraction in progress (a signal to tsbox): it fails and leaves nothing behind. */
  signal?: AbortSignal;
  /** Where to show a status line while an extraction takes long (a terminal), if anywhere. */
  progress?: ProgressOutput;
  /** Where "-" reads from; process.stdin by default. */
  stdin?: NodeJS.ReadableStream;
  /**
   * The stored image the source was found to be (image/run-image.ts): its layers are
   * referenced for `holder` and stacked (image/run-layers.ts). null: a rootfs, known to be
   * no image (not told again). Absent: tell by content here.
   */
  image?: { id: string; holder: LayerHolder; container: { upper: string; work: string } } | null;
}

export interface PreparedImage {
  /** Absolute path of the read-only lower tree. */
  treeDir: string;
  /** "sha256:<hex>" of the archive (the image id for an image), null for a directory. */
  digest: string | null;
  source: 'directory' | 'cache' | 'extracted';
  /** An image's layers, top first, when they are stacked (treeDir is then the top one). */
  lowers?: LowerStack;
}

/** Default for --max-rootfs-size: generous, only there to stop bombs. */
export const DEFAULT_MAX_ROOTFS_SIZE = 64 * 1024 ** 3;
/**
 * Default for --max-rootfs-entries: a full distribution image has tens of thousands of
 * entries (debian: ~20k, a large ubuntu with toolchains: ~200k); a million is only reached
 * by a stream of empty entries, which would otherwise never stop.
 */
export const DEFAULT_MAX_ROOTFS_ENTRIES = 1_000_000;

/**
 * Seams for tests: how the archive is opened. The default reads the file (and hashes it
 * as it reads, see archive-hash.ts); a test passes a counting opener to prove a cached run
 * never reads the archive. A plain iterable is hashed by the extractor.
 */
export interface PrepareDeps {
  openArchive(path: string): AsyncIterable<Buffer | string>;
}

const defaultDeps: PrepareDeps = {
  openArchive: (path) => readArchiveFile(path),
};

export async function prepareImage(source: string, opts: ImageOptions, deps: PrepareDeps = defaultDeps): Promise<PreparedImage> {
  if (opts.image) {
    const { prepareImageLowers } = await import('./run-layers.js');
    const lowers = await prepareImageLowers(opts.root, opts.image.id, opts.image.holder, opts.image.container);
    if (lowers.flattened !== null) opts.log.info({ image: opts.image.id, why: lowers.flattened }, 'image flattened into one tree');
    return { treeDir: lowers.treeDir, digest: opts.image.id, source: 'cache', lowers: lowers.stack };
  }
  if (source === '-') return extractStream(opts.stdin ?? process.stdin, '-', opts, null);

  const path = resolve(source);
  let st;
  try {
    st = await fs.stat(path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ARCHIVE:NAME, one image of an archive that holds several.
    if (code === 'ENOENT' && source.includes(':')) {
      const image = await imageTree(source, opts, false);
      if (image !== null) return image;
    }
    throw new UsageError(`rootfs ${source}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, {
      step: 'prepare rootfs',
      hint: 'ROOTFS is an image archive (docker-archive, oci-archive, OCI layout, dir:; ARCHIVE:NAME picks one image), a tar, tar.gz, tar.zst or tar.xz rootfs archive, a directory, or - for an archive on stdin.',
    });
  }
  if (!st.isFile() && !st.isDirectory()) return extractStream(deps.openArchive(path), path, opts, null); // a fifo, /dev/stdin...

  await fs.mkdir(join(cacheDir(opts.root), '.locks'), { recursive: true, mode: 0o700 });
  const key = statKey(path, st);
  const cached = st.isFile() ? await fromIndex(path, key, opts) : null;
  if (cached !== null) return cached;
  // An image archive or layout (told by content) that the caller did not resolve first
  // (run does: image/run-image.ts, and passes opts.image): its layers go to the layer store
  // and the image comes back flattened into one tree, without its config. Only the config
  // of a container kept by an older tsbox still gets here.
  const image = opts.image === null ? null : await imageTree(path, opts, st.isDirectory());
  if (image !== null) return image;
  if (st.isDirectory()) return { treeDir: path, digest: null, source: 'directory' };

  const lock = await lockFile(
    archiveLockPath(opts.root, key),
    () => opts.log.info({ archive: path }, 'another tsbox is extracting this archive; waiting for it'),
    opts.signal,
  );
  try {
    // The process we waited for has probably just extracted and indexed it.
    const again = await fromIndex(path, key, opts);
    if (again !== null) return again;
    const prepared = await extractStream(deps.openArchive(path), path, opts, Number(st.size));
    await recordInIndex(opts.root, path, key, prepared.digest!);
    return prepared;
  } finally {
    unlock(lock);
  }
}

async function imageTree(path: string, opts: ImageOptions, isDirectory: boolean): Promise<PreparedImage | null> {
  // A rootfs directory is not an image layout: two lookups, no more (warm starts pay them).
  if (isDirectory && !(await exists(join(path, 'oci-layout'))) && !(await exists(join(path, 'version')))) return null;
  // Loaded lazily: a run from a rootfs never evaluates the image modules.
  const { loadImage } = await import('./oci/load.js');
  const { flattenedTree } = await import('./oci/flatten.js');
  const { mountPlanForImage } = await import('./oci/mount-plan.js');
  const res = await loadImage(path, { root: opts.root, maxBytes: opts.maxRootfsSize, ...(opts.maxRootfsEntries === undefined ? {} : { maxEntries: opts.maxRootfsEntries }), log: opts.log });
  if (res.kind !== 'image') return null;
  const plan = await mountPlanForImage(opts.root, res.record);
  const treeDir = plan.lowerDirs.length === 1 ? plan.lowerDirs[0]! : await flattenedTree(opts.root, res.record);
  return { treeDir, digest: res.record.id, source: res.warm ? 'cache' : 'extracted' };
}

async function fromIndex(path: string, key: string, opts: ImageOptions): Promise<PreparedImage | null> {
  const digest = lookupDigest(await readIndex(opts.root), path, key);
  const hex = digest === null ? null : digestHex(digest);
  if (hex === null) return null;
  const entry = await inspectEntry(opts.root, hex);
  if (!entry.ok) {
    if (entry.exists) opts.log.warn({ digest, dir: entryDir(opts.root, hex) }, 'cache entry is damaged (bad or missing marker); extracting again');
    return null;
  }
  await touchEntry(opts.root, hex);
  opts.log.debug({ digest, archive: path }, 'rootfs from cache');
  return { treeDir: entry.treeDir, digest: entry.marker.digest, source: 'cache' };
}

/** Extract into a fresh temp dir and publish it as the entry for its digest. */
async function extractStream(input: AsyncIterable<Buffer | string>, sourceName: string, opts: ImageOptions, totalBytes: number | null): Promise<PreparedImage> {
  await fs.mkdir(join(cacheDir(opts.root), '.locks'), { recursive: true, mode: 0o700 });
  const temp = await reserveTempDir(opts.root);
  const progress: ExtractProgress = { inputBytes: 0, entries: 0 };
  const display = opts.progress ? showProgress(opts.progress, sourceName === '-' ? 'stdin' : basename(sourceName), progress, totalBytes) : null;
  try {
    await fs.mkdir(temp.path, { mode: 0o700 });
    const tree = join(temp.path, TREE_NAME);
    await fs.mkdir(tree, { mode: 0o755 });
    const started = Date.now();
    const result = await extractArchive(input, tree, {
      maxBytes: opts.maxRootfsSize,
      maxEntries: opts.maxRootfsEntries ?? DEFAULT_MAX_ROOTFS_ENTRIES,
      signal: opts.signal,
      progress,
    });
    display?.stop();
    const hex = digestHex(result.digest)!;
    await writeMarker(temp.path, {
      digest: result.digest,
      contentBytes: result.contentBytes,
      entries: result.entries,
      source: sourceName,
      extractedAt: new Date().toISOString(),
    });
    await publish(temp.path, opts.root, hex, opts.log);
    opts.log.info(
      { digest: result.digest, archive: sourceName, entries: result.entries, bytes: result.contentBytes, ms: Date.now() - started },
      'extracted rootfs archive',
    );
    return { treeDir: join(entryDir(opts.root, hex), TREE_NAME), digest: result.digest, source: 'extracted' };
  } catch (err) {
    opts.log.debug({ dir: temp.path }, 'extraction failed; removing the partial tree');
    throw err;
  } finally {
    display?.stop();
    // On failure (a bad archive, an interrupt), the partial tree goes now: nothing of it
    // is ever published, and nothing stays behind for gc.
    await temp.release();
  }
}

/**
 * rename(temp → <hex>). If <hex> is already there, a sound entry wins (same digest, same
 * content: ours is dropped with the temp dir); a broken one is moved away first.
 */
async function publish(tempPath: string, root: string, hex: string, log: Logger): Promise<void> {
  const target = entryDir(root, hex);
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(tempPath, target);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') || attempt >= 3) throw err;
    }
    if ((await inspectEntry(root, hex)).ok) return;
    log.warn({ dir: target }, 'replacing a damaged cache entry');
    await discardEntryDir(root, hex);
  }
}

/** Move an entry out of the way in one rename (so nobody sees it half-deleted), then delete it. */
export async function discardEntryDir(root: string, hex: string): Promise<boolean> {
  const trash = await reserveTempDir(root);
  try {
    await fs.rename(entryDir(root, hex), trash.path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  } finally {
    await trash.release();
  }
}

async function recordInIndex(root: string, path: string, key: string, digest: string): Promise<void> {
  const lock = await lockFile(indexLockPath(root));
  try {
    const index = await readIndex(root);
    await writeIndex(root, withRecord(index, path, { key, digest }));
  } finally {
    unlock(lock);
  }
}


/** Drop every index record that points at `digest` (after the entry was removed). */
export async function forgetDigest(root: string, digest: string): Promise<void> {
  const lock = await lockFile(indexLockPath(root));
  try {
    const index = await readIndex(root);
    const archives = Object.fromEntries(Object.entries(index.archives).filter(([, r]) => r.digest !== digest));
    await writeIndex(root, { version: 1, archives });
  } finally {
    unlock(lock);
  }
}
