/**
 * The per-container group: decide whether one can (and must) be made, create it under
 * <cgroup2 mount>/<parent>/<id> with the controllers its limits need, write the limits, and
 * hand back a handle for joining, stats and teardown. Everything created is removed again
 * when a later step fails.
 */
import { basename, dirname, join } from 'node:path';
import { TsboxError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { decideCgroup } from './availability.js';
import { describeFsError, nodeCgroupFs, type CgroupFs } from './cgroupfs.js';
import { destroyCgroup } from './destroy.js';
import type { CgroupLimits } from './limits.js';
import { findCgroup2Mount, findV1Controllers } from './mountinfo.js';
import { flagsByController, planCgroupFiles, requiredControllers } from './plan.js';
import { parseMemoryEvents, readCgroupStats, type CgroupStats } from './stats.js';

export const DEFAULT_CGROUP_PARENT = 'tsbox';

export interface ContainerCgroup {
  /** Absolute path in the cgroup2 fs, e.g. /sys/fs/cgroup/unified/tsbox/<id>. */
  readonly path: string;
  /** The container's init writes its own pid here before exec, so its first instruction runs inside. */
  readonly procsFile: string;
  /** Move a process in (tests, and callers that start the process themselves). */
  addProcess(pid: number): void;
  readStats(): CgroupStats;
  /** memory.events counted an OOM kill. */
  oomKilled(): boolean;
  /** Kill everything inside, wait until it is empty, remove it. Idempotent. */
  destroy(): Promise<void>;
}

export interface CreateCgroupOptions {
  id: string;
  /** --cgroup-parent, relative to the cgroup2 mount; default "tsbox". */
  parent?: string;
  limits: CgroupLimits;
  log: Logger;
  /** The file operations; tests pass a double. */
  fs?: CgroupFs;
  /**
   * A group that already exists at exactly the path this one gets, made for an init spawned
   * before the spec was known (cgroups/early-group.ts): it is used instead of a new one.
   */
  adopt?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** "a/b" -> ["a", "b"]; a leading "/" is allowed (docker's --cgroup-parent style); ".." is not. */
export function parseCgroupParent(parent: string): string[] {
  const segments = parent.split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (!NAME.test(s) || s === '..') {
      throw new UsageError(`invalid --cgroup-parent '${parent}': expected group names separated by '/', like tsbox or system.slice/tsbox`);
    }
  }
  return segments;
}

function checkId(id: string): void {
  if (!NAME.test(id)) throw new TsboxError(`invalid container id for a cgroup name: '${id}'`);
}

function readControllers(fs: CgroupFs, dir: string): Set<string> {
  try {
    return new Set(fs.read(join(dir, 'cgroup.controllers')).split(/\s+/).filter(Boolean));
  } catch {
    return new Set();
  }
}

/**
 * Where createContainerCgroup will put the group of container `id`, or null when there is
 * no cgroup2 mount. A run records this before creating the group, so that if tsbox is
 * killed between the mkdir and recording the result, gc still knows which group to remove.
 */
export function plannedCgroupPath(id: string, parent: string | undefined, fs: CgroupFs = nodeCgroupFs): string | null {
  const mount = findCgroup2Mount(fs.mountinfo());
  return mount === null ? null : join(mount, ...parseCgroupParent(parent ?? DEFAULT_CGROUP_PARENT), id);
}

export async function createContainerCgroup(opts: CreateCgroupOptions): Promise<ContainerCgroup | null> {
  const fs = opts.fs ?? nodeCgroupFs;
  const { log, limits } = opts;
  const segments = parseCgroupParent(opts.parent ?? DEFAULT_CGROUP_PARENT);
  checkId(opts.id);

  // Decide before creating anything: a refusal must leave no trace.
  const mountinfo = fs.mountinfo();
  const mount = findCgroup2Mount(mountinfo);
  const decision = decideCgroup(
    {
      mount,
      writable: mount !== null && fs.isWritable(mount),
      available: mount === null ? new Set() : readControllers(fs, mount),
      boundToV1: findV1Controllers(mountinfo),
    },
    flagsByController(limits),
  );
  if (decision instanceof UsageError) throw decision;
  if (decision === 'none' || mount === null) {
    log.debug({}, 'no writable cgroup2 hierarchy and no limits: running without a cgroup');
    return null;
  }

  const controllers = requiredControllers(limits);
  const created: string[] = [];
  try {
    // Each ancestor must delegate the controllers to its children, from the mount down.
    // The parent group only ever holds container groups, never processes, so enabling
    // controllers in its subtree_control respects the no-internal-processes rule.
    // A concurrent run may remove the shared parent when it empties (see removeEmptyParent)
    // between our mkdir of the parent and of the group: then make the chain again.
    let path = '';
    for (let attempt = 1; ; attempt++) {
      let dir = mount;
      for (const segment of segments) {
        enableControllers(fs, dir, controllers);
        dir = join(dir, segment);
        if (mkdirIfMissing(fs, dir)) created.push(dir);
      }
      enableControllers(fs, dir, controllers);

      path = join(dir, opts.id);
      if (opts.adopt === path && fs.exists(path)) break;
      try {
        fs.mkdir(path);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && attempt < 5) continue;
        if (code === 'EEXIST') {
          throw new TsboxError(`a cgroup for container ${opts.id} already exists at ${path}`, { hint: 'A run with the same id is alive, or a killed one left it: `tsbox gc` removes leftovers.' });
        }
        throw new TsboxError(`cannot create cgroup ${path}: ${describeFsError(err)}`, { cause: err });
      }
    }
    created.push(path);

    for (const w of planCgroupFiles(limits)) {
      try {
        fs.write(join(path, w.file), w.value);
      } catch (err) {
        throw new TsboxError(`cannot set ${w.file} to '${w.value}' (${w.flag}): ${describeFsError(err)}`, { cause: err, hint: writeHint(w.file) });
      }
      log.debug({ file: w.file, value: w.value }, 'cgroup limit set');
    }
    log.debug({ cgroup: path, controllers }, 'cgroup created');
    return openContainerCgroup(path, log, fs, mount);
  } catch (err) {
    // Unwind what we made, newest first. A parent another run is using right now is not
    // empty and stays (rmdir fails with EBUSY/ENOTEMPTY), which is what it should do.
    for (const dir of created.reverse()) {
      try {
        fs.rmdir(dir);
      } catch (cleanupErr) {
        log.debug({ cgroup: dir, err: describeFsError(cleanupErr) }, 'cgroup left in place while unwinding');
      }
    }
    throw err;
  }
}

function mkdirIfMissing(fs: CgroupFs, dir: string): boolean {
  try {
    fs.mkdir(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false; // shared parent, or made by a concurrent run
    throw new TsboxError(`cannot create cgroup ${dir}: ${describeFsError(err)}`, { cause: err });
  }
}

function enableControllers(fs: CgroupFs, dir: string, controllers: string[]): void {
  if (controllers.length === 0) return;
  const file = join(dir, 'cgroup.subtree_control');
  const enabled = new Set(fs.read(file).split(/\s+/).filter(Boolean));
  const missing = controllers.filter((c) => !enabled.has(c));
  if (missing.length === 0) return;
  const value = missing.map((c) => `+${c}`).join(' ');
  try {
    fs.write(file, value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EBUSY'
        ? `${dir} holds processes itself, and cgroup v2 gives controllers only to groups whose parent has none; choose a --cgroup-parent that holds no processes.`
        : code === 'ENOENT'
          ? `${dir} does not offer ${missing.join(', ')} (see its cgroup.controllers).`
          : undefined;
    throw new TsboxError(`cannot enable ${missing.join(', ')} in ${file}: ${describeFsError(err)}`, { cause: err, ...(hint ? { hint } : {}) });
  }
}

function writeHint(file: string): string | undefined {
  if (file === 'cpuset.cpus') return 'The CPUs must be among the parent group\'s cpuset.cpus.effective.';
  if (file === 'memory.swap.max') return 'The kernel has no swap accounting here (memory.swap.max needs CONFIG_MEMCG_SWAP and swapaccount); run without --memory-swap.';
  if (file === 'io.max') return 'io limits need a whole disk whose queue supports throttling.';
  return undefined;
}

/**
 * Remove tsbox's default parent group once its last container group is gone, so that no
 * tsbox cgroup outlives the runs. A parent that still has children, or that a concurrent
 * run is about to use, stays (rmdir fails with EBUSY; creation retries on ENOENT). Parents
 * chosen with --cgroup-parent belong to the user and are never removed.
 */
export function removeEmptyDefaultParent(groupPath: string, log: Logger, fs: CgroupFs = nodeCgroupFs): void {
  const parent = dirname(groupPath);
  if (basename(parent) !== DEFAULT_CGROUP_PARENT) return;
  try {
    fs.rmdir(parent);
    log.debug({ cgroup: parent }, 'removed the empty parent cgroup');
  } catch {
    // Still in use by another container: it removes the parent when it ends.
  }
}

/** A handle on an existing group, e.g. one a killed run left behind (see runtime/gc.ts). */
export function openContainerCgroup(path: string, log: Logger, fs: CgroupFs = nodeCgroupFs, mount?: string | null): ContainerCgroup {
  const cgroupMount = mount === undefined ? findCgroup2Mount(safe(() => fs.mountinfo()) ?? '') : mount;
  return {
    path,
    procsFile: join(path, 'cgroup.procs'),
    addProcess(pid) {
      try {
        fs.write(join(path, 'cgroup.procs'), String(pid));
      } catch (err) {
        throw new TsboxError(`cannot move process ${pid} into cgroup ${path}: ${describeFsError(err)}`, { cause: err });
      }
    },
    readStats: () => readCgroupStats(fs, path),
    oomKilled: () => parseMemoryEvents(safe(() => fs.read(join(path, 'memory.events'))) ?? '').oomKill > 0,
    destroy: () => destroyCgroup(fs, path, log, { mount: cgroupMount }),
  };
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}
