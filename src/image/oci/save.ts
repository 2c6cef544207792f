/**
 * tsbox save: an image back into a docker-archive that podman and docker load.
 *
 * The store keeps each layer extracted, not its original tar, so every layer is written
 * again from its tree: overlay whiteouts (0:0 character devices) become `.wh.NAME`,
 * trusted.overlay.opaque=y becomes `.wh..wh..opq`, hard links within the layer are kept,
 * names sorted so the bytes are the same every time. Those bytes generally differ from the
 * original layer's, so the config is written with the new diff_ids: the saved image has
 * a new id (its history, entrypoint, env and the rest are unchanged).
 */
import { lstatSync, mkdirSync, openSync, closeSync, readdirSync, readlinkSync, renameSync, rmSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { lgetxattr, llistxattr } from '../../sys/fs.js';
import { hexOf, sha256 } from './digest.js';
import type { ImageRecord } from './image-store.js';
import { readConfigBytes } from './image-store.js';
import { layerTree } from './store-layout.js';
import { TarFileWriter } from './tar-writer.js';

const OPAQUE = 'trusted.overlay.opaque';

export interface SaveResult {
  imageId: string;
  bytes: number;
}

export async function saveImage(root: string, record: ImageRecord, out: string): Promise<SaveResult> {
  const config = JSON.parse((await readConfigBytes(root, record.id)).toString('utf8')) as Record<string, unknown> & { rootfs: { diff_ids: string[] } };
  const temp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o644);
  try {
    const outer = new TarFileWriter(fd);
    const layerNames: string[] = [];
    const diffIds: string[] = [];
    const scratch = `${temp}.layers`;
    mkdirSync(scratch, { mode: 0o700 });
    try {
      for (const diffId of record.diffIds) {
        const layerFile = join(scratch, `${layerNames.length}.tar`);
        const lfd = openSync(layerFile, 'wx', 0o600);
        let digest: string;
        let size: number;
        try {
          const w = new TarFileWriter(lfd);
          writeTree(w, layerTree(root, diffId));
          digest = w.end();
          size = w.bytes;
        } finally {
          closeSync(lfd);
        }
        const name = `${hexOf(digest)}.tar`;
        outer.entry({ name, type: 'file', mode: 0o444, uid: 0, gid: 0, mtime: 0, size }, { path: layerFile });
        rmSync(layerFile);
        layerNames.push(name);
        diffIds.push(digest);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    const configBytes = Buffer.from(JSON.stringify({ ...config, rootfs: { type: 'layers', diff_ids: diffIds } }));
    const imageId = sha256(configBytes);
    const configName = `${hexOf(imageId)}.json`;
    outer.entry({ name: configName, type: 'file', mode: 0o444, uid: 0, gid: 0, mtime: 0, size: configBytes.length }, { data: configBytes });
    const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: record.repoTags, Layers: layerNames }]));
    outer.entry({ name: 'manifest.json', type: 'file', mode: 0o444, uid: 0, gid: 0, mtime: 0, size: manifest.length }, { data: manifest });
    outer.end();
    closeSync(fd);
    renameSync(temp, out);
    return { imageId, bytes: outer.bytes };
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    rmSync(temp, { force: true });
    throw err;
  }
}

/** One layer tree as a layer tar, whiteouts in the image spec's form. */
function writeTree(w: TarFileWriter, tree: string): void {
  const links = new Map<string, string>();
  const visit = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const path = join(abs, name);
      const member = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(path);
      const base = { mode: st.mode, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), size: 0 };
      if (st.isCharacterDevice() && st.rdev === 0) {
        w.entry({ ...base, mode: 0, name: rel === '' ? `.wh.${name}` : `${rel}/.wh.${name}`, type: 'file' });
        continue;
      }
      const xattrs = xattrsOf(path).filter(([k]) => k !== OPAQUE);
      if (st.isDirectory()) {
        w.entry({ ...base, name: `${member}/`, type: 'directory', xattrs });
        if (isOpaque(path)) w.entry({ ...base, mode: 0, name: `${member}/.wh..wh..opq`, type: 'file' });
        visit(path, member);
      } else if (st.isSymbolicLink()) {
        w.entry({ ...base, name: member, type: 'symlink', linkname: readlinkSync(path), xattrs });
      } else if (st.isFIFO()) {
        w.entry({ ...base, name: member, type: 'fifo', xattrs });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) {
          w.entry({ ...base, name: member, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) links.set(key, member);
        w.entry({ ...base, name: member, type: 'file', size: st.size, xattrs }, { path });
      }
      // Sockets and other devices are not part of an image layer: skipped.
    }
  };
  visit(tree, '');
}

function xattrsOf(path: string): Array<[string, Buffer]> {
  try {
    return llistxattr(path).sort().map((k): [string, Buffer] => [k, lgetxattr(path, k)]);
  } catch {
    return [];
  }
}

function isOpaque(path: string): boolean {
  try {
    return lgetxattr(path, OPAQUE).toString() === 'y';
  } catch {
    return false;
  }
}
