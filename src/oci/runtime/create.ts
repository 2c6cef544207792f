/**
 * OCI create: from a bundle to a container whose first process waits before exec, with no
 * tsbox process left behind to hold it.
 *
 *   bundle     config.json read and checked, the plan made: nothing exists yet
 *   claim      the state directory of the id (exclusive), the exec fifo in it
 *   cgroup     a cgroup v2 group at cgroupsPath (limits this host cannot enforce are refused)
 *   spawn      the init, born in the namespaces config.json asks for (new, or joined by path),
 *              then moved into the group; the device policy attached to the group
 *   setup      the init mounts, pivots, applies the security of config.json, sends {t:"created"}
 *              and blocks opening the exec fifo (init/hold-fifo.ts); with process.terminal it
 *              first asks for its pty, whose master goes to --console-socket
 *   record     state.json, then the pid file (the engine reads it as "created"). state.json
 *              is first written, marked creating, just before the init gets its plan: a
 *              create killed part way leaves a container that `delete` removes.
 *
 * On any failure the cleanup stack unwinds all of it (the init is killed), so a failed
 * create leaves nothing; once the setup began, the poststop hooks run after that (the
 * runtime-spec's "continue the lifecycle at delete" after a failed hook). On success the init is left to our parent's subreaper (conmon,
 * containerd-shim), which reaps it and reads its exit status.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { removeEmptyParents } from './cgroup-parents.js';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createContainerCgroup, findCgroup2Mount, nodeCgroupFs, type ContainerCgroup } from '../../cgroups/index.js';
import { processStartTime } from '../../container/process-start.js';
import { applyDevicePolicy } from '../../devices/index.js';
import { linuxDevicePolicySys } from '../../devices/linux.js';
import { asTsboxError, TsboxError, UsageError } from '../../errors.js';
import type { InitPlan } from '../../init/protocol.js';
import { spawnInitInNamespaces } from '../../namespaces/spawn-init.js';
import { PLACED, type InitPlacement, type NsChoice } from '../../namespaces/placement.js';

const HOST_NS: NsChoice = { kind: 'host' };
/** config.json's namespace type names -> tsbox's placement keys. */
const PLACEMENT_TYPE: Record<string, keyof InitPlacement | undefined> = { network: 'net', pid: 'pid', ipc: 'ipc', uts: 'uts' };
import { CleanupStack } from '../../runtime/cleanup.js';
import { InitConnection } from '../../runtime/init-connection.js';
import { mkfifo } from '../../sys/unix-fd.js';
import { handTerminal } from './console.js';
import { checkDestination } from './bundle.js';
import { initHooks, planContainer } from './config-adapter.js';
import { runRuntimeHooks } from './run-hooks.js';
import { preservedFds } from './preserve-fds.js';
import type { RuntimeLog } from './runtime-log.js';
import type { ContainerRecord, StateRoot } from './state-dir.js';

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  /** --cgroup-manager disabled (podman --cgroups=disabled): no group at all. */
  noCgroup: boolean;
  debug: boolean;
}

export interface Created {
  record: ContainerRecord;
  init: InitConnection;
}

export async function createContainer(state: StateRoot, id: string, opts: CreateOptions, log: RuntimeLog): Promise<Created> {
  // Unwound on failure only: once created, everything made belongs to the container (delete).
  const cleanup = new CleanupStack(log);
  const progress: Progress = { wroteRecord: false };
  try {
    return await createSteps(state, id, opts, log, cleanup, progress);
  } catch (err) {
    // Our record exists once the init got its plan: the container's setup (and its prestart,
    // createRuntime, createContainer hooks) began. (Gone: a `delete` took the container over
    // meanwhile and ran poststop itself. Never another container's: a taken id fails earlier.)
    const begun = progress.wroteRecord ? readRecord(state, id) : null;
    const failures = await cleanup.unwind();
    for (const f of failures) log.error({}, f.message);
    // runtime-spec: a failed create (a failed hook of those phases included) stops the
    // container and "continues the lifecycle at delete": its poststop hooks run, once the
    // container is gone, as delete would run them.
    if (begun?.hooks) await runRuntimeHooks(begun.hooks, 'poststop', { id, pid: null, bundle: begun.bundle, annotations: begun.annotations }, log);
    throw err;
  }
}

/** How far create got, for its failure path. */
interface Progress {
  /** state.json (marked creating) was written: the id's record is ours. */
  wroteRecord: boolean;
}

function readRecord(state: StateRoot, id: string): ContainerRecord | null {
  try {
    return state.exists(id) ? state.read(id) : null;
  } catch {
    return null;
  }
}

async function createSteps(state: StateRoot, id: string, opts: CreateOptions, log: RuntimeLog, cleanup: CleanupStack, progress: Progress): Promise<Created> {
  const step = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    log.debug({ step: name }, name);
    try {
      return await fn();
    } catch (err) {
      throw asTsboxError(err).inStep(name);
    }
  };

  // Checked first: a bad count must leave nothing behind.
  const preserve = preservedFds(opts.preserveFds, 'create');
  const planned = await step('read config.json', () => planContainer(resolve(opts.bundle), id, { systemdCgroup: false }));
  const { plan: oci, ns, limits } = planned;
  const cgroupPlan = planned.cgroup;
  await step('read config.json', () => {
    for (const m of planned.loaded.config.mounts ?? []) checkDestination(oci.root.path, m.destination);
  });
  for (const w of planned.warnings) log.warn({ step: 'read config.json' }, w);
  const terminal = oci.process.terminal;
  if (terminal && !opts.consoleSocket) throw new UsageError('process.terminal is set but no --console-socket was given', { step: 'create', hint: 'The engine must pass --console-socket to receive the terminal.' });

  const dir = await step('create state', () => state.claim(id));
  cleanup.defer('state directory', () => state.remove(id));
  const fifo = join(dir, 'exec.fifo');
  // 0622: the init may have dropped to a non-root user with no capabilities when it opens it.
  await step('create exec fifo', () => mkfifo(fifo, 0o622));

  let cgroup: ContainerCgroup | null = null;
  const madeParents: string[] = [];
  if (!opts.noCgroup) {
    const mount = findCgroup2Mount(nodeCgroupFs.mountinfo());
    if (mount !== null) {
      for (let p = join(mount, cgroupPlan.parent); p.startsWith(`${mount}/`) && !existsSync(p); p = dirname(p)) madeParents.push(p);
    }
    cgroup = await step('create cgroup', () => createContainerCgroup({ id: cgroupPlan.name, parent: cgroupPlan.parent || '/', limits, log }));
    if (cgroup) {
      const group = cgroup;
      cleanup.defer('cgroup', async () => {
        await group.destroy();
        removeEmptyParents(madeParents);
      });
    } else if (Object.keys(limits).length > 0) {
      throw new UsageError('config.json sets resource limits but this host has no writable cgroup v2 hierarchy', { step: 'create cgroup' });
    }
  }

  // config.json's namespaces as tsbox's placement: new, joined by path, or (not listed) the runtime's own.
  const placement: InitPlacement = { net: HOST_NS, pid: HOST_NS, ipc: HOST_NS, uts: HOST_NS };
  for (const [type, flag] of Object.entries(PLACED)) if ((ns.unshare & flag) !== 0) placement[type as keyof InitPlacement] = { kind: 'new' };
  const joinFds: number[] = [];
  cleanup.defer('namespace files', () => joinFds.forEach((fd) => closeSync(fd)));
  await step('open namespaces', () => {
    for (const j of ns.join) {
      const type = PLACEMENT_TYPE[j.type];
      if (type === undefined) throw new UsageError(`config.json: linux.namespaces (${j.type}, ${j.path}): joining this namespace type by path is not supported`, { step: 'open namespaces' });
      const fd = openSync(j.path, 'r');
      joinFds.push(fd);
      placement[type] = { kind: 'join', fd, what: `the ${j.type} namespace ${j.path}` };
    }
  });

  const stdio = terminal ? (['ignore', 'ignore', 'ignore'] as const) : (['inherit', 'inherit', 'inherit'] as const);
  const child: ChildProcess = await step('spawn init', () => spawnInitInNamespaces([...stdio], placement, undefined, null, preserve));
  const init = new InitConnection(child, (m) => log.debug({ step: m.step, init: true }, m.detail ?? m.step));
  cleanup.defer('init process', async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await init.exited;
  });
  const pidStartTime = processStartTime(init.pid);
  if (pidStartTime === null) throw new TsboxError('the init exited as soon as it started', { step: 'spawn init' });

  if (cgroup) await step('move init into cgroup', () => writeFile(cgroup!.procsFile, String(init.pid)));
  await step('apply device policy', () => applyDevicePolicy(planned.devicePolicy, cgroup?.path ?? null, log, linuxDevicePolicySys));
  if (oci.process.oomScoreAdj !== null) {
    await step('set oom_score_adj', () => writeFile(`/proc/${init.pid}/oom_score_adj`, String(oci.process.oomScoreAdj)));
  }
  const plan = await step('plan', () => planned.initPlan(cgroup?.path ?? null, opts.debug));

  await step('start init', () => init.expectReady());
  // Without a group there is no device policy: the root is then mounted nodev, so that only
  // /dev's nodes open (devices/policy.ts refused the capabilities that get around that).
  const hookState = { id, pid: init.pid, bundle: planned.loaded.bundle, annotations: oci.annotations };
  const hooks = initHooks(oci.hooks, hookState);
  const record: ContainerRecord = {
    ociVersion: oci.ociVersion,
    id,
    bundle: planned.loaded.bundle,
    rootfs: oci.root.path,
    pid: init.pid,
    pidStartTime,
    created: new Date().toISOString(),
    cgroup: cgroup?.path ?? null,
    cgroupParents: madeParents,
    annotations: oci.annotations,
    terminal,
    ...(oci.hooks.poststart.length + oci.hooks.poststop.length > 0 ? { hooks: { poststart: oci.hooks.poststart, poststop: oci.hooks.poststop } } : {}),
  };
  // Before the setup (and the hooks) begin: if create dies part way (killed by its engine),
  // `delete` finds the container ("creating", then "stopped") and removes it, running poststop.
  await step('write state', () => state.write({ ...record, creating: true }));
  progress.wroteRecord = true;
  const fullPlan: InitPlan = { ...plan, rootfs: { ...plan.rootfs, nodev: cgroup === null }, hold: { fifo }, ...(hooks ? { hooks } : {}), ...(preserve.length > 0 ? { preserveFds: preserve.length } : {}) };
  init.send(fullPlan);
  if (hooks?.runtimePoint) {
    // The init stopped after its mounts, before pivot_root: the runtime's hooks run now.
    await step('set up container', () => init.expectHookPoint());
    await runRuntimeHooks(oci.hooks, 'prestart', hookState, log);
    await runRuntimeHooks(oci.hooks, 'createRuntime', hookState, log);
    init.send({ t: 'resume' });
  }
  if (terminal) await step('console socket', () => handTerminal(init, resolve(opts.consoleSocket!)));
  await step('set up container', () => init.expectCreated());

  await step('write state', () => state.write(record));
  if (opts.pidFile) await step('write pid file', () => writePidFile(resolve(opts.pidFile!), init.pid));
  // Created: nothing of the above is undone any more; the namespace fds are closed.
  for (const fd of joinFds.splice(0)) closeSync(fd);
  return { record, init };
}

/** Written whole or not at all: the engine reads the file as soon as it exists. */
function writePidFile(path: string, pid: number): void {
  writeFileSync(`${path}.tmp`, String(pid));
  renameSync(`${path}.tmp`, path);
}
