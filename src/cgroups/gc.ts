/**
 * Removing container groups whose owner is gone (a tsbox killed with SIGKILL cannot clean
 * up after itself): every group under the parent whose id the caller says is not alive is
 * killed and removed.
 */
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { describeFsError, nodeCgroupFs, type CgroupFs } from './cgroupfs.js';
import { destroyCgroup } from './destroy.js';
import { DEFAULT_CGROUP_PARENT, parseCgroupParent } from './manager.js';
import { findCgroup2Mount } from './mountinfo.js';

export interface GcCgroupsOptions {
  parent?: string;
  isAlive: (id: string) => boolean;
  log: Logger;
  fs?: CgroupFs;
}

/** Returns the ids whose groups were removed. One group that cannot be removed does not stop the rest. */
export async function gcCgroups(opts: GcCgroupsOptions): Promise<string[]> {
  const fs = opts.fs ?? nodeCgroupFs;
  const mount = findCgroup2Mount(fs.mountinfo());
  if (mount === null) return [];
  const parentDir = join(mount, ...parseCgroupParent(opts.parent ?? DEFAULT_CGROUP_PARENT));
  let ids: string[];
  try {
    ids = fs.listDirs(parentDir);
  } catch {
    return []; // no parent group: nothing was ever created
  }
  const removed: string[] = [];
  for (const id of ids) {
    if (opts.isAlive(id)) continue;
    try {
      await destroyCgroup(fs, join(parentDir, id), opts.log, { mount });
      removed.push(id);
      opts.log.info({ container: id }, 'removed the cgroup of a dead run');
    } catch (err) {
      opts.log.warn({ container: id, err: err instanceof Error ? err.message : describeFsError(err) }, 'cannot remove a leftover cgroup');
    }
  }
  return removed;
}
