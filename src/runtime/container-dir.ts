/**
 * A run's directory under <root>/containers: created with its lock held, so that a
 * concurrent `tsbox gc` (or the next tsbox command) can tell a live run from the
 * leftovers of a killed one.
 */
import { closeSync, openSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { removeTree } from '../image/remove-tree.js';
import { tryFlock } from '../sys/fd.js';
import { TsboxError } from '../errors.js';
import { containersDir, type ContainerPaths } from './paths.js';

export interface OwnerRecord {
  id: string;
  pid: number;
  cgroup: string | null;
}

export interface ContainerDir {
  paths: ContainerPaths;
  recordOwner(record: OwnerRecord): Promise<void>;
  /** Remove everything in the directory, then release the lock. */
  remove(): Promise<void>;
}

export async function createContainerDir(root: string, paths: ContainerPaths): Promise<ContainerDir> {
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
  try {
    await Promise.all([paths.upper, paths.work, paths.merged].map((d) => mkdir(join(building, basename(d)), { mode: 0o755 })));
    renameSync(building, paths.dir);
  } catch (err) {
    closeSync(lockFd);
    await removeTree(building);
    throw err;
  }
  return {
    paths,
    recordOwner: (record) => writeFile(paths.owner, JSON.stringify(record)),
    async remove() {
      try {
        // Relative to directory fds: the container chose the shape of its upper dir (any
        // depth). The lock goes last: until then gc knows whose directory this is.
        for (const name of await readdir(paths.dir)) if (name !== basename(paths.lock)) await removeTree(join(paths.dir, name));
        await removeTree(paths.dir);
      } finally {
        closeSync(lockFd);
      }
    },
  };
}
