/**
 * Reclaiming what killed runs left behind. A tsbox killed with SIGKILL cannot clean up;
 * its container died with it (the init's PDEATHSIG), and every mount lived only in the
 * container's own mount namespace, so what remains is its directory and its cgroup.
 * Every tsbox command calls this first; `tsbox gc` calls it alone.
 */
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleEmptyGroups } from '../cgroups/early-group.js';
import { gcImageTemps } from '../image/index.js';
import type { Logger } from '../log.js';
import { tryFlock } from '../sys/fd.js';
import { hostReleasers } from '../container/release.js';
import { migrateOwnerRecordV1, OWNER_RECORD_V1_FILE, parseResourceRecord, RESOURCE_RECORD_FILE, type ResourceRecord } from '../container/resource-record.js';
import { describeResource, releaseAll } from '../container/resources.js';
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
      // What it held, released by kind, newest first (container/resources.ts); the
      // directory itself was recorded first, so it goes last.
      let record: ResourceRecord | null;
      try {
        record = readResourceRecord(dir);
      } catch (err) {
        log.error({ container: name, err: (err as Error).message }, 'left in place: its record cannot be read');
        continue;
      }
      const failures = await releaseAll(record?.resources ?? [{ kind: 'container-dir', path: dir }], hostReleasers(log));
      for (const f of failures) log.error({ container: name, resource: describeResource(f.resource), err: f.error.message }, 'could not release a resource of a killed run; tsbox gc retries');
      if (failures.length > 0) continue;
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
