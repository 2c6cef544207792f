/**
 * Where tsbox keeps things under its state root (--root, default /var/lib/tsbox):
 *
 *   lock                       the global lock of the container records (runtime/state/store.ts)
 *   rootfs/<sha256>/           extracted images (the cache; owned by src/image)
 *   containers/<short id>/     one per container, from create until rm: ONE directory, one lock
 *     lock                     flock held by the container's holder (foreground tsbox or monitor):
 *                              a free lock means its holder died
 *     state.json, spec.json    its record and config (runtime/state/store.ts)
 *     container.log*, monitor.log, start.sock
 *     live/                    what exists while its processes exist, released by kind
 *       resources.json         the record of what it holds (container/resource-record.ts)
 *       upper/ work/ merged/   the overlay's writable layer and mount point
 *       hostname hosts resolv.conf
 *
 * A previous tsbox kept the records elsewhere (/run/tsbox/containers for the default root,
 * <root>/run/containers otherwise) and the run's directory (lock, resources.json, upper...)
 * directly in containers/<short id>/: both are still read (runtime/state/legacy.ts, gc.ts).
 */
import { join } from 'node:path';
import { RESOURCE_RECORD_FILE } from '../container/resource-record.js';

export interface ContainerPaths {
  /** live/: released (removed) when the container's processes are gone. */
  dir: string;
  /** The container's one lock, in its directory (held by its holder: see above). */
  lock: string;
  /** What the container holds, for gc to release if its owner dies (container/resource-record.ts). */
  resources: string;
  upper: string;
  work: string;
  merged: string;
  etc: { hostname: string; hosts: string; resolvConf: string };
}

/** The flock its holder keeps on its directory. */
export const CONTAINER_LOCK = 'lock';
/** The part of a container's directory that lives as long as its processes. */
export const LIVE_DIR = 'live';

export function containersDir(root: string): string {
  return join(root, 'containers');
}

export function containerPaths(root: string, shortId: string): ContainerPaths {
  const entry = join(containersDir(root), shortId);
  const dir = join(entry, LIVE_DIR);
  return {
    dir,
    lock: join(entry, CONTAINER_LOCK),
    resources: join(dir, RESOURCE_RECORD_FILE),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    etc: { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') },
  };
}
