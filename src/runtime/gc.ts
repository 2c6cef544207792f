/**
 * Reclaiming what killed runs left behind. A tsbox killed with SIGKILL cannot clean up;
 * its container died with it (the init's PDEATHSIG), and every mount lived only in the
 * container's own mount namespace, so what remains is its directory and its cgroup.
 * Every tsbox command calls this first; `tsbox gc` calls it alone.
 */
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openContainerCgroup, removeEmptyDefaultParent } from '../cgroups/index.js';
import { removeStaleEmptyGroups } from '../cgroups/early-group.js';
import { gcImageTemps } from '../image/index.js';
import type { Logger } from '../log.js';
import { tryFlock } from '../sys/fd.js';
import type { OwnerRecord } from './container-dir.js';
import { containersDir } from './paths.js';
import { DEFAULT_ROOT } from '../spec/run-spec.js';
import { StateStore, stateDirFor } from './state/store.js';

export interface GcReport {
  containers: string[];
  imageTemps: number;
  /** Records of ephemeral runs whose owner died (kept records are marked exited instead). */
  records: string[];
  /** Empty groups under the default cgroup parent that no run recorded (cgroups/early-group.ts). */
  emptyCgroups: string[];
}

export async function reclaimDeadRuns(root: string, log: Logger): Promise<GcReport> {
  const report: GcReport = { containers: [], imageTemps: 0, records: [], emptyCgroups: [] };
  let entries: string[];
  try {
    entries = readdirSync(containersDir(root));
  } catch {
    entries = [];
  }
  for (const name of entries) {
    const dir = join(containersDir(root), name);
    // A run still building its directory (containers/.new-<id>, see container-dir.ts) is
    // not ours to judge until it is old enough that its creator must have died.
    if (name.startsWith('.') && ageMs(dir) <= LOCKLESS_GRACE_MS) continue;
    const lockFd = openLock(join(dir, 'lock'));
    if (lockFd === 'missing') {
      // Only an old .new-<id> whose creator was killed between mkdir and creating the lock
      // gets here (a published directory always has its lock); it holds nothing else.
      if (ageMs(dir) > LOCKLESS_GRACE_MS) await rm(dir, { recursive: true, force: true });
      continue;
    }
    try {
      if (!tryFlock(lockFd, true)) continue; // its owner is alive
      const owner = readOwner(join(dir, 'owner.json'));
      // The network first: its veth, published ports and lease (network/container-network.ts).
      if (owner?.network?.length) await releaseDeadRunNetwork(owner.network, log);
      if (owner?.cgroup) {
        await openContainerCgroup(owner.cgroup, log).destroy();
        removeEmptyDefaultParent(owner.cgroup, log);
      }
      await rm(dir, { recursive: true, force: true });
      report.containers.push(name);
      log.info({ container: name }, 'reclaimed the leftovers of a killed run');
    } finally {
      closeSync(lockFd);
    }
  }
  report.imageTemps = await gcImageTemps(root, log);
  report.records = new StateStore(stateDirFor(root, DEFAULT_ROOT)).reclaim();
  // A tsbox killed right after it made its init's group, before its run recorded it.
  report.emptyCgroups = removeStaleEmptyGroups(LOCKLESS_GRACE_MS, Date.now());
  return report;
}

const LOCKLESS_GRACE_MS = 30_000;

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function openLock(path: string): number | 'missing' {
  try {
    return openSync(path, 'r');
  } catch {
    return 'missing';
  }
}

/** Loaded only when a killed run had a network: most commands never load the network code. */
async function releaseDeadRunNetwork(records: unknown[], log: Logger): Promise<void> {
  const [{ releaseContainerNetwork }, { netContext }, { networkResourceSchema }] = await Promise.all([
    import('../network/container-network.js'), import('../network/context.js'), import('../network/resources.js'),
  ]);
  try {
    releaseContainerNetwork(netContext(), records.map((r) => networkResourceSchema.parse(r)));
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not release the network of a killed run');
  }
}

function readOwner(path: string): OwnerRecord | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as OwnerRecord;
  } catch {
    return null;
  }
}
