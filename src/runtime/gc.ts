/**
 * Reclaiming what killed runs left behind. A tsbox killed with SIGKILL cannot clean up;
 * its container died with it (the init's PDEATHSIG), and every mount lived only in the
 * container's own mount namespace, so what remains is its directory and its cgroup.
 * Every tsbox command calls this first; `tsbox gc` calls it alone.
 */
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openContainerCgroup, removeEmptyDefaultParent } from '../cgroups/index.js';
import { removeStaleEmptyGroups } from '../cgroups/early-group.js';
import { gcImageTemps } from '../image/index.js';
import { removeTree } from '../image/remove-tree.js';
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
  /** Leftovers that could not be removed this time (left for the next gc): never a reason to stop the others. */
  failed: Array<{ what: string; error: string }>;
}

/**
 * Reclaim one dead run. Whatever one run left (a tree the walk cannot remove, a busy
 * cgroup) must never stop the others, nor the run that is reclaiming them: the failure is
 * reported and the directory stays for the next gc.
 */
async function reclaimOne(name: string, report: GcReport, warn: (fields: object, msg: string) => void, reclaim: () => Promise<void>): Promise<boolean> {
  try {
    await reclaim();
    report.containers.push(name);
    return true;
  } catch (err) {
    report.failed.push({ what: `container ${name}`, error: shortMessage(err) });
    warn({ container: name, err: shortMessage(err) }, 'could not reclaim the leftovers of a killed run; tsbox gc will retry');
    return false;
  }
}

/** An error for a log line: bounded, whatever path or detail it carries. */
export function shortMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 300 ? `${message.slice(0, 300)}...` : message;
}

/**
 * `warnFailures`: log one warning line per leftover that could not be removed (a run
 * does; `tsbox gc` reports them itself, as its error).
 */
export async function reclaimDeadRuns(root: string, log: Logger, { warnFailures = true } = {}): Promise<GcReport> {
  const warn = (fields: object, msg: string) => (warnFailures ? log.warn(fields, msg) : log.debug(fields, msg));
  const report: GcReport = { containers: [], imageTemps: 0, records: [], emptyCgroups: [], failed: [] };
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
      if (ageMs(dir) > LOCKLESS_GRACE_MS) await reclaimOne(name, report, warn, () => removeTree(dir));
      continue;
    }
    try {
      if (!tryFlock(lockFd, true)) continue; // its owner is alive
      const reclaimed = await reclaimOne(name, report, warn, async () => {
        const owner = readOwner(join(dir, 'owner.json'));
        if (owner?.cgroup) {
          await openContainerCgroup(owner.cgroup, log).destroy();
          removeEmptyDefaultParent(owner.cgroup, log);
        }
        await removeTree(dir);
      });
      if (reclaimed) log.info({ container: name }, 'reclaimed the leftovers of a killed run');
    } finally {
      closeSync(lockFd);
    }
  }
  try {
    report.imageTemps = await gcImageTemps(root, log);
  } catch (err) {
    report.failed.push({ what: 'rootfs temp dirs', error: shortMessage(err) });
    warn({ err: shortMessage(err) }, 'could not remove partial rootfs extractions; tsbox gc will retry');
  }
  try {
    report.records = new StateStore(stateDirFor(root, DEFAULT_ROOT)).reclaim();
  } catch (err) {
    report.failed.push({ what: 'container records', error: shortMessage(err) });
    warn({ err: shortMessage(err) }, 'could not reclaim the records of killed runs; tsbox gc will retry');
  }
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

function readOwner(path: string): OwnerRecord | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as OwnerRecord;
  } catch {
    return null;
  }
}
