/**
 * Where tsbox keeps things under its state root (--root, default /var/lib/tsbox):
 *
 *   rootfs/<sha256>/        extracted images (the cache; owned by src/image)
 *   containers/<short id>/  one per live run: its lock, overlay upper/work dirs,
 *                           mount point and generated /etc files; removed at the end
 */
import { join } from 'node:path';
import { RESOURCE_RECORD_FILE } from '../container/resource-record.js';

export interface ContainerPaths {
  dir: string;
  /** Held (flock) by the tsbox process that owns the run: a free lock means its owner died. */
  lock: string;
  /** What the container holds, for gc to release if its owner dies (container/resource-record.ts). */
  resources: string;
  upper: string;
  work: string;
  merged: string;
  etc: { hostname: string; hosts: string; resolvConf: string };
}

/** The flock its holder keeps on its directory (see container-dir.ts). */
export const CONTAINER_LOCK = 'lock';

export function containersDir(root: string): string {
  return join(root, 'containers');
}

export function containerPaths(root: string, shortId: string): ContainerPaths {
  const dir = join(containersDir(root), shortId);
  return {
    dir,
    lock: join(dir, CONTAINER_LOCK),
    resources: join(dir, RESOURCE_RECORD_FILE),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    etc: { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') },
  };
}
