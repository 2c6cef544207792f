/**
 * Reclaiming what killed runs left behind. A tsbox killed with SIGKILL cannot clean up;
 * its container died with it (the init's PDEATHSIG), and every mount lived only in the
 * container's own mount namespace, so what remains is its directory and its cgroup.
 * Every tsbox command calls this first; `tsbox gc` calls it alone.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleEmptyGroups } from '../cgroups/early-group.js';
import { gcImageTemps } from '../image/index.js';
import { removeTree } from '../image/remove-tree.js';
import type { Logger } from '../log.js';
import { tryFlock } from '../sys/fd.js';
import { hostReleasers } from '../container/release.js';
import { migrateOwnerRecordV1, OWNER_RECORD_V1_FILE, parseResourceRecord, RESOURCE_RECORD_FILE, type ResourceRecord } from '../container/resource-record.js';
import { describeResource, releaseAll } from '../container/resources.js';
import { containersDir, LIVE_DIR } from './paths.js';
import { DEFAULT_ROOT } from '../spec/run-spec.js';
import { storeOfRoot } from './state/store.js';
import { lockHeld } from './state/lock-held.js';

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
    // A container still building its directory (containers/.new-<id>, state/store.ts; a
    // record moving in, .migrate-<id>) is not ours to judge until it is old enough that its
    // creator must have died. Then it holds nothing but itself: nothing was published.
    if (name.startsWith('.')) {
      if (ageMs(dir) > LOCKLESS_GRACE_MS && !lockHeld(join(dir, 'lock'))) await reclaimOne(name, report, warn, () => removeTree(dir));
      continue;
    }
    const lockFd = openLock(join(dir, 'lock'));
    if (lockFd === 'missing') continue; // a published directory always has its lock
    try {
      if (!tryFlock(lockFd, true)) continue; // its owner is alive
      // The live part of a dead holder's container (runtime/paths.ts), or a whole run
      // directory of the previous version; nothing for a stopped container (released already).
      const held = heldBy(dir);
      if (held === null) continue;
      // What it held, released by kind, newest first (container/resources.ts); the
      // directory itself was recorded first, so it goes last. A record it cannot read
      // exactly, or a release that fails, leaves the directory for the next gc.
      const reclaimed = await reclaimOne(name, report, warn, async () => {
        const record = readResourceRecord(held);
        const failures = await releaseAll(record?.resources ?? [{ kind: 'container-dir', path: held }], hostReleasers(log));
        if (failures.length > 0) throw new Error(failures.map((f) => `${describeResource(f.resource)}: ${f.error.message}`).join('; '));
        // Removed (rm) while it still held something: nothing of it is left to keep.
        if (held !== dir && !existsSync(join(dir, 'state.json'))) await removeTree(dir);
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
    report.records = storeOfRoot(root, DEFAULT_ROOT).reclaim();
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

/**
 * Where a dead holder's resources are recorded: <dir>/live (this version), or <dir> itself
 * for a run directory of the previous version (its resources.json or owner.json at the top,
 * and no record: the previous version kept records elsewhere). null: nothing is held.
 */
function heldBy(dir: string): string | null {
  const live = join(dir, LIVE_DIR);
  if (existsSync(live)) return live;
  if (existsSync(join(dir, 'state.json'))) return null;
  if (existsSync(join(dir, RESOURCE_RECORD_FILE)) || existsSync(join(dir, OWNER_RECORD_V1_FILE))) return dir;
  // A directory with a lock and nothing else: a previous version's run killed before it wrote a record.
  return readdirSync(dir).every((n) => n === 'lock') ? dir : null;
}

/**
 * The directory's resource record: version 2, or the previous version's owner.json
 * migrated. null when the run was killed before it wrote one (it then holds only its
 * directory). A record this tsbox cannot read is an error, not a guess.
 */
function readResourceRecord(dir: string): ResourceRecord | null {
  const current = readOptional(join(dir, RESOURCE_RECORD_FILE));
  if (current !== null) return parseResourceRecord(current, join(dir, RESOURCE_RECORD_FILE));
  const v1 = readOptional(join(dir, OWNER_RECORD_V1_FILE));
  if (v1 !== null) return migrateOwnerRecordV1(v1, join(dir, OWNER_RECORD_V1_FILE), dir);
  return null;
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
