/**
 * The live part of a container's directory (<root>/containers/<id>/live, runtime/paths.ts):
 * the overlay's layer and mount point, the generated /etc files, and resources.json, the
 * record of what the container holds. Made inside the container's directory, whose lock its
 * holder (this process) already holds: a concurrent gc can tell a live container from the
 * leftovers of a killed one by that lock.
 */
import { renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { removeContainerDir } from '../container/release.js';
import type { ContainerPaths } from './paths.js';
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
  /** Remove the live directory (the lock is the container's, released with its record). */
  remove(): Promise<void>;
}

export async function createContainerDir(id: string, paths: ContainerPaths): Promise<ContainerDir> {
  // No leftover of an earlier life may be taken over: gc releases it first (runtime/start.ts).
  await mkdir(paths.dir, { mode: 0o700 });
  let resources: Resource[] = [{ kind: 'container-dir', path: paths.dir }, { kind: 'overlay', upper: paths.upper, work: paths.work }];
  const write = async () => {
    const temp = join(paths.dir, `.${basename(paths.resources)}.tmp`);
    await writeFile(temp, serializeResourceRecord({ version: 2, id, resources }), { mode: 0o600 });
    renameSync(temp, paths.resources);
  };
  // Killed before resources.json exists, gc releases live/ alone: it holds nothing else yet.
  await Promise.all([paths.upper, paths.work, paths.merged].map((d) => mkdir(d, { mode: 0o755 })));
  await write();
  return {
    paths,
    get resources() {
      return resources;
    },
    async recordResource(r) {
      resources = withResource(resources, r);
      await write();
    },
    async remove() {
      // Already gone when the run's release by kind removed it (container/release.ts).
      await removeContainerDir(paths.dir);
    },
  };
}
