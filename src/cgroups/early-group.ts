/**
 * The container's group, made at the very start of `tsbox run` for the init spawned there
 * (namespaces/early-init.ts), under the run's --cgroup-parent (the default parent without
 * one) and named by the container's id.
 *
 * Why: moving a process into a group (writing cgroup.procs) waits for an RCU grace period,
 * ~15 ms here, and nothing else of the start can proceed without it. Made early, the wait
 * overlaps tsbox loading its command line. cgroup v2 cannot rename a group, so the group
 * gets its final name from the start, and the run adopts it (manager.ts, `adopt`) when its
 * spec agrees: same id, same parent. Otherwise the init moves on, and the group goes.
 *
 * A tsbox killed before its run recorded the group leaves it empty (the init dies with
 * tsbox): gc removes empty groups under the default parent that are old enough (see
 * removeStaleEmptyGroups). Under a --cgroup-parent of the user's, the window between
 * making the group and recording it (the run's first milliseconds) is not covered: gc
 * cannot know that parent. Once the run has recorded it, gc destroys it as any other.
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { nodeCgroupFs, type CgroupFs } from './cgroupfs.js';
import { isPopulated } from './destroy.js';
import { DEFAULT_CGROUP_PARENT, parseCgroupParent } from './manager.js';
import { findCgroup2Mount } from './mountinfo.js';

export interface EarlyGroup {
  readonly path: string;
  /** Settles when the move is done: true if the init is inside. */
  readonly joined: Promise<boolean>;
}

/** Null where there is no writable cgroup2 hierarchy, or the group cannot be made: the run then does it all itself. */
export function createEarlyGroup(shortId: string, pid: number, cgroupParent: string | undefined, fs: CgroupFs = nodeCgroupFs): EarlyGroup | null {
  try {
    const mount = findCgroup2Mount(fs.mountinfo());
    if (mount === null || !fs.isWritable(mount)) return null;
    // An invalid parent throws: no group, and the run reports the flag in one line.
    const segments = parseCgroupParent(cgroupParent ?? DEFAULT_CGROUP_PARENT);
    const parent = join(mount, ...segments);
    const path = join(parent, shortId);
    // A run ending right now may remove the empty parent between the two mkdirs: try again.
    for (let attempt = 1; ; attempt++) {
      let dir = mount;
      for (const segment of segments) mkdirIfMissing(fs, (dir = join(dir, segment)));
      try {
        fs.mkdir(path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
      }
    }
    const joined = writeFile(join(path, 'cgroup.procs'), String(pid)).then(
      () => true,
      () => false,
    );
    return { path, joined };
  } catch {
    return null;
  }
}

/**
 * Remove an early group no run adopted, once the init left it or died; and the default
 * parent, if that emptied it (a --cgroup-parent of the user's stays, as after any run).
 */
export function removeEarlyGroup(group: EarlyGroup, fs: CgroupFs = nodeCgroupFs): void {
  try {
    fs.rmdir(group.path);
  } catch {
    return; // adopted and already destroyed (ENOENT), or not empty yet: a later gc removes it
  }
  if (basename(dirname(group.path)) !== DEFAULT_CGROUP_PARENT) return;
  try {
    fs.rmdir(dirname(group.path));
  } catch {
    // other containers' groups remain
  }
}

/**
 * gc: remove groups under the default parent that are empty and older than `minAgeMs`.
 * A live run's group is never empty for long (its processes are inside from the moment it
 * is made to its teardown), and rmdir fails on a group that is not empty anyway.
 */
export function removeStaleEmptyGroups(minAgeMs: number, now: number, fs: CgroupFs = nodeCgroupFs): string[] {
  const mount = findCgroup2Mount(safe(() => fs.mountinfo()) ?? '');
  if (mount === null) return [];
  const parent = join(mount, DEFAULT_CGROUP_PARENT);
  const removed: string[] = [];
  for (const name of safe(() => fs.listDirs(parent)) ?? []) {
    const path = join(parent, name);
    const events = safe(() => fs.read(join(path, 'cgroup.events')));
    const created = safe(() => fs.mtimeMs(path));
    if (events === null || isPopulated(events) || created === null || now - created < minAgeMs) continue;
    try {
      fs.rmdir(path);
      removed.push(name);
    } catch {
      // a child group, or gone meanwhile
    }
  }
  if (removed.length > 0) {
    try {
      fs.rmdir(parent); // as a run's teardown does when it removes the last group
    } catch {
      // other groups remain
    }
  }
  return removed;
}

function mkdirIfMissing(fs: CgroupFs, dir: string): void {
  try {
    fs.mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
