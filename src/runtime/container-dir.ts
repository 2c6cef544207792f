/**
 * A run's directory under <root>/containers: created with its lock held, so that a
 * concurrent `tsbox gc` (or the next tsbox command) can tell a live run from the
 * leftovers of a killed one.
 */
import { closeSync, openSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { removeTree } from '../image/remove-tree.js';
import { removeContainerDir } from '../container/release.js';
import { tryFlock } from '../sys/fd.js';
import { TsboxError } from '../errors.js';
import { containersDir, type ContainerPaths } from './paths.js';
import { serializeResourceRecord } from '../container/resource-record.js';
import { withResource, type Resource } from '../container/resources.js';

export interface ContainerDir {
  paths: ContainerPaths;
  /** What the container holds so far, in order of acquisition (container/resources.ts). */
  readonly resources: readonly Resource[];
  /**
   * Record a resource before (or as) it is acquired, so that gc finds it if we are killed
   * right after: resources.json is rewritten whole, atomically (temp + rename).
   */
  recordResource(r: Resource): Promise<void>;
  /** Remove everything in the directory, then release the lock. */
  remove(): Promise<void>;
}

export async function createContainerDir(root: string, id: string, paths: ContainerPaths): Promise<ContainerDir> {
  await mkdir(containersDir(root), { recursive: true, mode: 0o700 });
  // Built under a hidden name and renamed into place with its lock already held: a
  // concurrent gc must never see the run's directory with a lock it can take (it would
  // take it between our open and our flock, judge the owner dead, and remove the live run).
  const building = join(containersDir(root), `.new-${basename(paths.dir)}`);
  await mkdir(building, { mode: 0o700 });
  const lockFd = openSync(join(building, basename(paths.lock)), 'wx', 0o600);
  if (!tryFlock(lockFd, true)) {
    closeSync(lockFd);
    throw new TsboxError(`container directory ${building} is locked by another process`);
  }
  let resources: Resource[] = [{ kind: 'container-dir', path: paths.dir }, { kind: 'overlay', upper: paths.upper, work: paths.work }];
  const write = async (dir: string) => {
    const temp = join(dir, `.${basename(paths.resources)}.tmp`);
    await writeFile(temp, serializeResourceRecord({ version: 2, id, resources }), { mode: 0o600 });
    renameSync(temp, join(dir, basename(paths.resources)));
  };
  try {
    await Promise.all([paths.upper, paths.work, paths.merged].map((d) => mkdir(join(building, basename(d)), { mode: 0o755 })));
    await write(building);
    renameSync(building, paths.dir);
  } catch (err) {
    closeSync(lockFd);
    await removeTree(building);
    throw err;
  }
  return {
    paths,
    get resources() {
      return resources;
    },
    async recordResource(r) {
      resources = withResource(resources, r);
      await write(paths.dir);
    },
    async remove() {
      try {
        // Already gone when the run's release by kind removed it (container/release.ts).
        await removeContainerDir(paths.dir);
      } finally {
        closeSync(lockFd);
      }
    },
  };
}
