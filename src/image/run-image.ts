/**
 * What `tsbox run SOURCE` runs, decided before the container's config is final (its process
 * merges the image's config: spec/image-defaults.ts):
 *   -                                   a rootfs archive on stdin
 *   a directory without oci-layout      a rootfs directory
 *   a file the rootfs cache indexed     a rootfs tarball seen before (warm: one index read)
 *   any other path, or ARCHIVE:NAME     loaded (told by content, image/oci/load.ts): an
 *                                       image, or a rootfs tarball after all
 *   anything else                       an image reference: the stored image by that name,
 *                                       pulled when missing (--pull missing, docker's rule),
 *                                       always (--pull always) or never (--pull never)
 * A rootfs path never loads the image modules: they are imported only for an image.
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ImageDefaults } from '../spec/image-defaults.js';
import { statKey } from './cache-layout.js';
import { lookupDigest, parseIndex, readIndex } from './cache-index.js';

const ARCHIVE_NAME = /\.(tar|tgz|tzst|txz|tar\.(gz|zst|xz))(:[^/]*)?$/;

export type PullPolicy = 'always' | 'missing' | 'never';

export interface RunImageOptions {
  root: string;
  maxBytes: number;
  maxEntries: number;
  pull: PullPolicy;
  log: Logger;
  signal?: AbortSignal;
}

export interface RunImage {
  /** The image id (config digest). */
  id: string;
  /** What the run names as its source: the archive's absolute path, or the reference as given. */
  origin: string;
  defaults: ImageDefaults;
  /** What tsbox does not apply of the config (logged). */
  notes: string[];
}

export async function findRunImage(source: string, opts: RunImageOptions): Promise<RunImage | null> {
  if (source === '-') return null;
  const path = resolve(source);
  const st = await fs.stat(path, { bigint: true }).catch(() => null);
  if (st !== null) {
    if (st.isDirectory() && !(await exists(join(path, 'oci-layout'))) && !(await exists(join(path, 'version')))) return null;
    if (!st.isFile() && !st.isDirectory()) return null;
    if (st.isFile()) {
      const key = statKey(path, st);
      if (lookupDigest(await readIndex(opts.root), path, key) !== null) return null;
      // An image archive loaded before (same path and stat): its record, without loading the
      // loader; its layers are checked when they are taken (run-layers.ts).
      const id = warmImageId(opts.root, path, key);
      if (id !== null) return withConfig(opts.root, id, path, opts.log);
    }
    return fromLoad(path, path, opts);
  }
  // ARCHIVE:NAME (one image of an archive of several): the part before a ':' is a path.
  for (let i = source.indexOf(':'); i > 0; i = source.indexOf(':', i + 1)) {
    if (await exists(resolve(source.slice(0, i)))) return fromLoad(source, resolve(source), opts);
  }
  // A path that is not there is the rootfs step's to report ("no such file or directory"):
  // one that says it is a path, or names an archive file (app.tar is a valid image name, but
  // a missing file is far likelier than an image of that name on a registry).
  if (source.startsWith('/') || source.startsWith('.') || ARCHIVE_NAME.test(source)) return null;
  return fromReference(source, opts);
}

/** The image id sources.json records for this archive's path and stat (load.ts), if its record is there. */
function warmImageId(root: string, path: string, key: string): string | null {
  let text: string;
  try {
    text = readFileSync(join(root, 'images', 'sources.json'), 'utf8');
  } catch {
    return null;
  }
  const id = parseIndex(text).archives[`${key}\0`]?.digest;
  if (id === undefined || !/^sha256:[0-9a-f]{64}$/.test(id)) return null;
  return existsSync(join(root, 'images', 'records', `${id.slice(7)}.json`)) ? id : null;
}

async function fromLoad(source: string, origin: string, opts: RunImageOptions): Promise<RunImage | null> {
  const { loadImage } = await import('./oci/load.js');
  const res = await loadImage(source, { root: opts.root, maxBytes: opts.maxBytes, maxEntries: opts.maxEntries, log: opts.log });
  return res.kind === 'image' ? withConfig(opts.root, res.record.id, origin, opts.log) : null;
}

async function fromReference(text: string, opts: RunImageOptions): Promise<RunImage> {
  const { listRecords, resolveImage } = await import('./oci/image-store.js');
  if (opts.pull !== 'always') {
    const found = resolveImage(await listRecords(opts.root), text);
    if (!('error' in found)) return withConfig(opts.root, found.id, text, opts.log);
    if (opts.pull === 'never') throw new UsageError(`${found.error}, and --pull never`, { step: 'find image', hint: 'Pull it first (tsbox pull), load it (tsbox load), or drop --pull never.' });
  }
  const { parseReference } = await import('../registry/reference.js');
  parseReference(text); // not a path, not an image name: one line saying why
  const [{ pullImage }, { TerminalProgress }] = await Promise.all([import('./oci/pull-image.js'), import('../registry/progress.js')]);
  opts.log.info({ image: text }, 'image not present: pulling it');
  // As `tsbox pull`: per-layer progress on a terminal, nothing for scripts.
  const progress = new TerminalProgress(2, isatty(2));
  const pulled = await pullImage(text, { root: opts.root, maxBytes: opts.maxBytes, maxEntries: opts.maxEntries, log: opts.log, signal: opts.signal, progress });
  return withConfig(opts.root, pulled.record.id, text, opts.log);
}

async function withConfig(root: string, id: string, origin: string, log: Logger): Promise<RunImage> {
  const [{ readConfigBytes }, { imageConfigSchema, parseDocument }, { imageDefaultsFromConfig, ImageConfigError }] = await Promise.all([
    import('./oci/image-store.js'), import('./oci/documents.js'), import('./oci/config-merge.js'),
  ]);
  let bytes: Buffer;
  try {
    bytes = await readConfigBytes(root, id);
  } catch {
    throw new UsageError(`image ${id}: its config is missing from the store`, { step: 'image config', hint: 'Load or pull the image again.' });
  }
  try {
    const { defaults, notes } = imageDefaultsFromConfig(parseDocument(bytes, imageConfigSchema, 'image config'));
    for (const note of notes) log.info({ image: id }, note);
    return { id, origin, defaults, notes };
  } catch (err) {
    if (err instanceof ImageConfigError) throw new UsageError(`image ${id}: ${err.message}`, { step: 'image config', hint: 'The image\'s config cannot be run as it is: fix the image, or override the value (-u, -w, --entrypoint).' });
    throw new UsageError(`image ${id}: ${(err as Error).message}`, { step: 'image config' });
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(() => true, () => false);
}
