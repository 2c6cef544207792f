/**
 * Snapshots of a directory tree for comparisons: every name with its type, mode, owner,
 * times, size, link target, device, content hash and xattrs, read with lstat (nothing is
 * followed). Two extractions agree when their snapshots are equal.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr, llistxattr } from '../../src/sys/fs.js';

export interface NodeInfo {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  mtimeNs: string;
  size?: number;
  sha256?: string;
  link?: string;
  rdev?: number;
  nlink?: number;
  xattrs: Record<string, string>;
}

export type Snapshot = Record<string, NodeInfo>;

export interface SnapshotOptions {
  /** Leave out mtimes of these kinds (e.g. directories created implicitly). */
  ignoreMtime?: (rel: string, info: NodeInfo) => boolean;
}

export function snapshotTree(root: string, opts: SnapshotOptions = {}): Snapshot {
  const out: Snapshot = {};
  const visit = (dir: string, rel: string): void => {
    const info = describe(dir);
    out[rel || '.'] = info;
    if (info.type !== 'dir') return;
    for (const name of readdirSync(dir).sort()) visit(join(dir, name), rel ? `${rel}/${name}` : name);
  };
  visit(root, '');
  if (opts.ignoreMtime) for (const [rel, info] of Object.entries(out)) if (opts.ignoreMtime(rel, info)) info.mtimeNs = '*';
  return out;
}

function describe(path: string): NodeInfo {
  const st = lstatSync(path, { bigint: true });
  const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'other';
  const info: NodeInfo = {
    type,
    mode: (Number(st.mode) & 0o7777).toString(8),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs.toString(),
    xattrs: {},
  };
  if (type === 'file') {
    info.size = Number(st.size);
    info.sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    info.nlink = Number(st.nlink);
  }
  if (type === 'symlink') info.link = readlinkSync(path);
  if (type === 'char' || type === 'block') info.rdev = Number(st.rdev);
  for (const name of llistxattr(path).sort()) info.xattrs[name] = lgetxattr(path, name).toString('hex');
  return info;
}
