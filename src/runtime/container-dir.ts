/**
 * A run's directory under <root>/containers: created with its lock held, so that a
 * concurrent `tsbox gc` (or the next tsbox command) can tell a live run from the
 * leftovers of a killed one.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
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
  await mkdir(paths.dir, { mode: 0o700 });
  const lockFd = openSync(paths.lock, 'wx', 0o600);
  if (!tryFlock(lockFd, true)) {
    closeSync(lockFd);
    throw new TsboxError(`container directory ${paths.dir} is locked by another process`);
  }
  await Promise.all([paths.upper, paths.work, paths.merged].map((d) => mkdir(d, { mode: 0o755 })));
  return {
    paths,
    recordOwner: (record) => writeFile(paths.owner, JSON.stringify(record)),
    async remove() {
      try {
        await rm(paths.dir, { recursive: true, force: true });
      } finally {
        closeSync(lockFd);
      }
    },
  };
}
