/**
 * Tearing a container's group down: every process in it (and in any group below it) killed,
 * the kernel's word that the group is empty, then the directories removed bottom-up.
 * Idempotent: a group that is already gone is success.
 */
import { join } from 'node:path';
import { TsboxError } from '../errors.js';
import type { Logger } from '../log.js';
import { describeFsError, type CgroupFs } from './cgroupfs.js';

export interface DestroyOptions {
  /** How long the processes may take to die before we give up (default 10 s). */
  timeoutMs?: number;
  /** The cgroup2 mount, to tell whether tsbox itself is inside the group. */
  mount?: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isCode(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException)?.code ?? '');
}

/** "populated 1" in cgroup.events: some process lives in the group or below it. */
export function isPopulated(eventsText: string): boolean {
  return /^populated 1$/m.test(eventsText);
}

/** Our own cgroup v2 path ("/tsbox/x") from /proc/self/cgroup text ("0::/tsbox/x"). Pure. */
export function ownCgroup2Path(selfCgroup: string): string | null {
  const line = selfCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line === undefined ? null : line.slice(3);
}

/** Every group from `dir` down, parents before children. */
function subtree(fs: CgroupFs, dir: string): string[] {
  const all = [dir];
  for (let i = 0; i < all.length; i++) {
    let children: string[] = [];
    try {
      children = fs.listDirs(all[i]!);
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
    }
    for (const c of children) all.push(join(all[i]!, c));
  }
  return all;
}

function readPids(fs: CgroupFs, dir: string): number[] {
  try {
    return fs
      .read(join(dir, 'cgroup.procs'))
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return [];
    throw err;
  }
}

export async function destroyCgroup(fs: CgroupFs, path: string, log: Logger, opts: DestroyOptions = {}): Promise<void> {
  if (!fs.exists(path)) return;
  const events = join(path, 'cgroup.events');
  // The root group has no cgroup.events: never treat a hierarchy's root as a container.
  if (!fs.exists(events)) throw new TsboxError(`refusing to destroy ${path}: it is not a non-root cgroup v2 group`);
  refuseIfWeAreInside(fs, path, opts.mount ?? null);

  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const hasKill = fs.exists(join(path, 'cgroup.kill'));
  if (hasKill) {
    // One write kills the whole subtree, atomically with respect to forks (Linux 5.14+).
    fs.write(join(path, 'cgroup.kill'), '1');
  } else if (fs.exists(join(path, 'cgroup.freeze'))) {
    // Older kernels: freeze first so nothing forks while we read and kill pid by pid;
    // SIGKILL still reaches frozen tasks.
    fs.write(join(path, 'cgroup.freeze'), '1');
  }

  // The group usually empties within a millisecond of cgroup.kill: poll early, then back off.
  let delay = 1;
  for (;;) {
    let populated: boolean;
    try {
      populated = isPopulated(fs.read(events));
    } catch (err) {
      if (isCode(err, 'ENOENT')) return; // removed under us: someone else finished the job
      throw err;
    }
    if (!populated) break;
    if (!hasKill) killEveryPid(fs, path);
    if (Date.now() > deadline) {
      throw new TsboxError(`the processes in cgroup ${path} did not exit within ${timeoutMs / 1000}s after SIGKILL`, {
        hint: 'A process stuck in uninterruptible sleep (state D, often I/O on a hung mount) cannot die; see `cat ' + join(path, 'cgroup.procs') + '`.',
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }

  // Children before their parent; a group the kernel still counts as busy for a moment after
  // "populated 0" is retried until the deadline.
  for (const dir of subtree(fs, path).reverse()) {
    for (;;) {
      try {
        fs.rmdir(dir);
        break;
      } catch (err) {
        if (isCode(err, 'ENOENT')) break;
        if (!isCode(err, 'EBUSY') || Date.now() > deadline) {
          throw new TsboxError(`cannot remove cgroup ${dir}: ${describeFsError(err)}`, { cause: err });
        }
        await sleep(10);
      }
    }
  }
  log.debug({ cgroup: path }, 'cgroup removed');
}

function killEveryPid(fs: CgroupFs, path: string): void {
  for (const dir of subtree(fs, path)) {
    for (const pid of readPids(fs, dir)) {
      try {
        fs.kill(pid, 'SIGKILL');
      } catch (err) {
        if (!isCode(err, 'ESRCH')) throw err; // already gone
      }
    }
  }
}

/** Killing the group tsbox itself runs in would kill tsbox halfway through its cleanup. */
function refuseIfWeAreInside(fs: CgroupFs, path: string, mount: string | null): void {
  if (mount === null) return;
  let own: string | null = null;
  try {
    own = ownCgroup2Path(fs.selfCgroup());
  } catch {
    return;
  }
  if (own === null) return;
  const ownAbs = join(mount, own);
  if (ownAbs === path || ownAbs.startsWith(path + '/')) {
    throw new TsboxError(`refusing to destroy cgroup ${path}: tsbox itself runs in it`);
  }
}
