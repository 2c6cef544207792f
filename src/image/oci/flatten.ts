/**
 * An image as one tree, for what overlay stacking cannot show: more than 500 layers, or a
 * hard link into a lower layer. The layers' trees are applied bottom first onto a private
 * temp tree, with the overlay meaning of what the layer store holds:
 * - a 0:0 character device deletes the name (and everything below it);
 * - trusted.overlay.opaque=y on a directory empties what the layers below put in it
 *   (applied when the directory is met, before this layer's own entries in it);
 * - anything else replaces what is there (a directory over a directory merges).
 * Parents are always handled before their children, so every parent in the flat tree is
 * a real directory made by this code: no symlink from an image is ever followed. The
 * result is published by one rename under <root>/flat/<id>/tree.
 */
import { promises as fs, constants, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr, llistxattr, mknodat, setxattrAt, openat, close, O, AT, S_IF } from '../../sys/fs.js';
import { lockFile, unlock } from '../locks.js';
import { removeTree } from '../remove-tree.js';
import { reserveTempDir } from '../temp-dirs.js';
import { hexOf } from './digest.js';
import type { ImageRecord } from './image-store.js';
import { readLayerMarker } from './layer-store.js';
import { layerTree } from './store-layout.js';

const OPAQUE = 'trusted.overlay.opaque';

export const flatDir = (root: string, id: string): string => join(root, 'flat', hexOf(id));

export async function flattenedTree(root: string, record: ImageRecord): Promise<string> {
  const dir = flatDir(root, record.id);
  const done = join(dir, 'flat.json');
  if (await exists(done)) return join(dir, 'tree');
  await fs.mkdir(join(root, 'flat', '.locks'), { recursive: true, mode: 0o700 });
  await fs.mkdir(join(root, 'rootfs', '.locks'), { recursive: true, mode: 0o700 });
  const lock = await lockFile(join(root, 'flat', '.locks', `${hexOf(record.id)}.lock`));
  try {
    if (await exists(done)) return join(dir, 'tree');
    const temp = await reserveTempDir(root);
    try {
      await fs.mkdir(temp.path, { mode: 0o700 });
      const tree = join(temp.path, 'tree');
      await fs.mkdir(tree, { mode: 0o755 });
      for (const key of record.layerKeys) {
        const layer = layerTree(root, key);
        await applyLayer(layer, tree);
        const marker = await readLayerMarker(root, key);
        for (const [path, target] of marker?.crossLayerLinks ?? []) await crossLink(layer, tree, path, target);
      }
      await fs.writeFile(join(temp.path, 'flat.json'), JSON.stringify({ id: record.id, layers: record.layerKeys }) + '\n');
      await removeTree(dir);
      await fs.rename(temp.path, dir);
      return join(dir, 'tree');
    } finally {
      await temp.release();
    }
  } finally {
    unlock(lock);
  }
}

async function applyLayer(layer: string, flat: string): Promise<void> {
  const links = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fs.readdir(join(layer, rel))).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const src = join(layer, r);
      const dst = join(flat, r);
      const st = await fs.lstat(src);
      const have = await fs.lstat(dst).catch(() => null);
      if (st.isCharacterDevice() && st.rdev === 0) {
        if (have !== null) await removeTree(dst);
        continue;
      }
      if (st.isDirectory()) {
        if (have !== null && !have.isDirectory()) await fs.rm(dst, { force: true });
        if (have === null || !have.isDirectory()) await fs.mkdir(dst, { mode: 0o700 });
        else if (isOpaque(src)) for (const child of await fs.readdir(dst)) await removeTree(join(dst, child));
        await walk(r);
        await copyMeta(src, dst, st);
        continue;
      }
      if (have !== null) await removeTree(dst);
      const key = `${st.dev}:${st.ino}`;
      const first = st.isFile() && st.nlink > 1 ? links.get(key) : undefined;
      if (first !== undefined) {
        await fs.link(join(flat, first), dst);
        continue;
      }
      if (st.isSymbolicLink()) {
        await fs.symlink(await fs.readlink(src), dst);
      } else if (st.isFile()) {
        await fs.copyFile(src, dst, constants.COPYFILE_FICLONE);
        if (st.nlink > 1) links.set(key, r);
      } else if (st.isFIFO()) {
        const slash = dst.lastIndexOf('/');
        const parent = openat(AT.FDCWD, dst.slice(0, slash), O.PATH | O.DIRECTORY | O.NOFOLLOW);
        try {
          mknodat(parent, dst.slice(slash + 1), S_IF.FIFO | 0o600, 0, 0);
        } finally {
          close(parent);
        }
      } else {
        continue; // sockets, devices: not image content
      }
      await copyMeta(src, dst, st);
    }
  };
  await walk('');
}

/** Owner, mode, xattrs (overlay's own dropped) and times, never following a symlink. */
async function copyMeta(src: string, dst: string, st: import('node:fs').Stats): Promise<void> {
  await fs.lchown(dst, st.uid, st.gid);
  if (!st.isSymbolicLink()) await fs.chmod(dst, st.mode & 0o7777);
  let names: string[] = [];
  try {
    names = llistxattr(src).filter((n) => !n.startsWith('trusted.overlay.'));
  } catch {
    // no xattrs
  }
  if (names.length > 0) {
    const slash = dst.lastIndexOf('/');
    const parent = openat(AT.FDCWD, dst.slice(0, slash), O.PATH | O.DIRECTORY | O.NOFOLLOW);
    try {
      for (const n of names) setxattrAt(parent, dst.slice(slash + 1), n, lgetxattr(src, n));
    } finally {
      close(parent);
    }
  }
  await fs.lutimes(dst, st.atime, st.mtime);
}

/** A layer's hard link to a lower layer's file, made now that the file is in the flat tree. */
async function crossLink(layer: string, flat: string, path: string, target: string): Promise<void> {
  if (await fs.lstat(join(layer, path)).catch(() => null)) return; // the layer itself put something there
  if (!realPath(flat, target, true)) throw new Error(`hard link ${path} → ${target}: the target is not a file of the layers below`);
  if (!realPath(flat, path.split('/').slice(0, -1).join('/'), false)) throw new Error(`hard link ${path}: its directory is not a directory of the image`);
  await removeTree(join(flat, path));
  await fs.link(join(flat, target), join(flat, path));
}

/** Is `rel` under `base` reached through real directories only, and (file) a regular file? */
function realPath(base: string, rel: string, file: boolean): boolean {
  const parts = rel === '' ? [] : rel.split('/');
  let path = base;
  for (const [i, part] of parts.entries()) {
    path = join(path, part);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return false;
    }
    const last = i === parts.length - 1;
    if (last && file ? !st.isFile() : !st.isDirectory()) return false;
  }
  return true;
}

function isOpaque(path: string): boolean {
  try {
    return lgetxattr(path, OPAQUE).toString() === 'y';
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}
