/**
 * start, kill, delete, pause and resume: each reads the record, asks the kernel for the
 * status (status.ts), and acts on the init or the group. Errors use the words containerd
 * and podman match: "does not exist", "container not running".
 */
import { closeSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeCgroupFs } from '../../cgroups/cgroupfs.js';
import { destroyCgroup } from '../../cgroups/destroy.js';
import { findCgroup2Mount } from '../../cgroups/mountinfo.js';
import { processStartTime } from '../../container/process-start.js';
import { TsboxError } from '../../errors.js';
import { removeEmptyParents } from './cgroup-parents.js';
import type { RuntimeLog } from './runtime-log.js';
import type { HooksPlan } from '../spec/hooks.js';
import type { OciStateInput } from '../spec/state.js';
import type { ContainerRecord, StateRoot } from './state-dir.js';
import { initAlive, statusOf } from './status.js';

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const SIGKILL = 9;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Release the held init: open the exec fifo for reading (its open for writing returns), read
 * the byte it writes, remove the fifo (from now on the status is "running"), run the
 * poststart hooks. Returns at once. The init runs the startContainer hooks before it writes:
 * 'E' and a reason instead of '0' is their failure (the init exits), and start's.
 */
export async function startContainer(state: StateRoot, id: string, log: RuntimeLog): Promise<void> {
  const r = state.read(id);
  const status = statusOf(state, r);
  if (status !== 'created') throw new TsboxError(`cannot start container ${id}: it is ${status}`, { step: 'start', hint: status === 'stopped' ? 'Create it again.' : 'Only a created container can be started.' });
  const fifo = state.fifo(id);
  // Non-blocking: if the init died meanwhile, there is no writer and we must not hang.
  const fd = openSync(fifo, O_NONBLOCK | O_CLOEXEC);
  try {
    const first = await readFifo(fd, r, 1);
    if (first !== '0') {
      const reason = first === 'E' ? await readFifo(fd, r, Infinity) : `unexpected '${first}' on the exec fifo`;
      rmSync(fifo, { force: true });
      throw new TsboxError(reason, { step: 'start', hint: 'The container did not start.' });
    }
  } finally {
    closeSync(fd);
  }
  rmSync(fifo, { force: true });
  if (r.hooks) await runHooks(r.hooks, 'poststart', hookState(r, r.pid), log);
}

/**
 * Up to `max` bytes from the fifo: at least one, or all until the init closes it (EOF).
 * An init gone before writing anything is an error.
 */
async function readFifo(fd: number, r: ContainerRecord, max: number): Promise<string> {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (;;) {
    let n = -1;
    try {
      n = readSync(fd, buf, 0, Math.min(buf.length, max - text.length), null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    if (n > 0) {
      text += buf.toString('utf8', 0, n);
      if (text.length >= max) return text;
      continue;
    }
    // EOF after something was written (a reason, all of it); or nothing yet: the init must live.
    if (n === 0 && text.length > 0) return text;
    if (!initAlive(r)) {
      if (text.length > 0) return text;
      throw new TsboxError(`the init of container ${r.id} exited before it was started`, { step: 'start' });
    }
    await sleep(1);
  }
}

/**
 * run-hooks.ts, loaded only for a container that has hooks: it brings child_process, which
 * the calls of a container without hooks (nearly all) would load for nothing.
 */
async function runHooks(hooks: Partial<HooksPlan>, phase: 'poststart' | 'poststop', state: Omit<OciStateInput, 'status'>, log: RuntimeLog): Promise<void> {
  const { runRuntimeHooks } = await import('./run-hooks.js');
  await runRuntimeHooks(hooks, phase, state, log);
}

/**
 * The group removed as cgroups/manager.ts's openContainerCgroup(path).destroy() does, without
 * the manager's other modules (limits, stats, the plan) that delete has no use for.
 */
async function destroyGroup(path: string, log: RuntimeLog): Promise<void> {
  let mountinfo = '';
  try {
    mountinfo = nodeCgroupFs.mountinfo();
  } catch {
    // as openContainerCgroup: no mountinfo, no cgroup2 mount to tell ours from
  }
  await destroyCgroup(nodeCgroupFs, path, log, { mount: findCgroup2Mount(mountinfo) });
}

function hookState(r: ContainerRecord, pid: number | null) {
  return { id: r.id, pid, bundle: r.bundle, annotations: r.annotations };
}

export function killContainer(state: StateRoot, id: string, signal: number, all: boolean): void {
  const r = state.read(id);
  if (statusOf(state, r) === 'stopped') throw new TsboxError('container not running', { step: 'kill' });
  const pids = all && r.cgroup ? groupPids(r.cgroup) : [r.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

export async function deleteContainer(state: StateRoot, id: string, force: boolean, log: RuntimeLog): Promise<void> {
  let r: ContainerRecord;
  try {
    r = state.read(id);
  } catch (err) {
    // A damaged record can still be removed by force; a missing one is "does not exist".
    if (force && state.list().includes(id) && !(err as Error).message.includes('does not exist')) return state.remove(id);
    throw err;
  }
  const status = statusOf(state, r);
  if (status === 'running' || status === 'paused' || status === 'creating') {
    if (!force) throw new TsboxError(`cannot delete container ${id} that is not stopped: ${status}`, { step: 'delete', hint: 'Kill it first, or use delete --force.' });
  }
  if (status !== 'stopped') {
    // A created container is deleted without --force (runc's rule): its command never ran.
    if (r.cgroup) thaw(r.cgroup);
    for (const pid of r.cgroup ? [r.pid, ...groupPids(r.cgroup)] : [r.pid]) {
      try {
        process.kill(pid, SIGKILL);
      } catch {
        // already gone
      }
    }
    await waitGone(r);
  }
  if (r.cgroup) {
    await destroyGroup(r.cgroup, log);
    removeEmptyParents(r.cgroupParents);
  }
  state.remove(id);
  // The container is gone; a failing poststop hook is a warning (the spec's rule).
  if (r.hooks) await runHooks(r.hooks, 'poststop', hookState(r, null), log);
}

export function setFrozen(state: StateRoot, id: string, frozen: boolean): void {
  const r = state.read(id);
  const status = statusOf(state, r);
  const verb = frozen ? 'pause' : 'resume';
  if (status === 'stopped' || status === 'created') throw new TsboxError('container not running', { step: verb });
  if (!r.cgroup) throw new TsboxError(`container ${id} has no cgroup to freeze`, { step: verb, hint: 'It was created with --cgroup-manager disabled.' });
  try {
    writeFileSync(join(r.cgroup, 'cgroup.freeze'), frozen ? '1' : '0');
  } catch (err) {
    throw new TsboxError(`cannot write cgroup.freeze of ${r.cgroup}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { step: verb, hint: 'The cgroup v2 freezer needs Linux 5.2.' });
  }
}

export function groupPids(cgroup: string): number[] {
  try {
    return readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function thaw(cgroup: string): void {
  try {
    writeFileSync(join(cgroup, 'cgroup.freeze'), '0');
  } catch {
    // no freezer: nothing was frozen
  }
}

/** The init is the engine's child: it is gone when reaped, or a zombie waiting for its parent. */
async function waitGone(r: ContainerRecord): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (processStartTime(r.pid) !== r.pidStartTime || !initAlive(r)) return;
    await sleep(5);
  }
  throw new TsboxError(`the init of container ${r.id} (pid ${r.pid}) did not die after SIGKILL`, { step: 'delete' });
}
