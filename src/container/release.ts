/**
 * How each kind of resource is released on this host: the registry container/resources.ts
 * walks. Every release is idempotent (a resource already gone is released), because gc may
 * run it after a SIGKILL at any step, twice, or on an entry whose resource was never made.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from '../image/remove-tree.js';
import { CONTAINER_LOCK } from '../runtime/paths.js';
import { openContainerCgroup, removeEmptyDefaultParent } from '../cgroups/index.js';
import type { Logger } from '../log.js';
import type { Releasers } from './resources.js';
import { processStartTime } from './process-start.js';

// Its own module so that readers of a record (tsbox-runtime's state) load no FFI with it.
export { processStartTime };

export function hostReleasers(log: Logger): Releasers {
  return {
    'container-dir': (r) => removeContainerDir(r.path),
    cgroup: async (r) => {
      // cgroup.kill first: every process left in it dies, then the group is removed.
      await openContainerCgroup(r.path, log).destroy();
      removeEmptyDefaultParent(r.path, log);
    },
    overlay: async (r) => {
      for (const d of [r.upper, r.work]) await removeTree(d);
    },
    process: async (r) => {
      // Only the process we started: a pid reused since then has another start time.
      if (processStartTime(r.pid) !== r.startTime) return;
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        return; // gone meanwhile
      }
      await waitGone(r.pid, r.startTime);
    },
    'image-layers': async (r) => {
      // Loaded only for a container of an image.
      const { releaseImageLayers } = await import('../image/run-layers.js');
      await releaseImageLayers(r.root, r.ref);
    },
    network: async (r) => {
      // Loaded only when a container had a network: most commands never load the network code.
      const [{ releaseContainerNetwork }, { netContext }] = await Promise.all([import('../network/container-network.js'), import('../network/context.js')]);
      releaseContainerNetwork(netContext(), r.resources);
    },
  };
}

/**
 * A container's directory: its entries through directory fds at any depth (the container
 * chose the shape of its upper dir: image/remove-tree.ts), the lock last, so that until
 * then gc knows whose directory this is. Nothing to do if it is already gone.
 */
export async function removeContainerDir(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) if (name !== CONTAINER_LOCK) await removeTree(join(dir, name));
  await removeTree(dir);
}


/** A killed process is gone once reaped, or a zombie its parent has not reaped yet (its parent may be us). */
async function waitGone(pid: number, startTime: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (processStartTime(pid) !== startTime || isZombie(pid)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').slice(-200).replace(/^.*\)/s, ')'));
  } catch {
    return false;
  }
}
