/**
 * The parent's story of a run: what tsbox does from a validated spec to the container's
 * exit status. Every acquired resource registers its release on the cleanup stack the
 * moment it exists, so an error at any step (or Ctrl-C during setup) unwinds exactly
 * what was done, in reverse.
 *
 *   dir       the run's directory, locked while we live
 *   cgroup    the container's group; limits the host cannot enforce are refused here
 *   devices   the device policy attached to the group: deny by default, as docker
 *   init      spawned into new namespaces (by the CLI before it even loaded, see
 *             namespaces/early-init.ts) and moved into the group: Node's start-up and the
 *             cgroup move (an RCU grace period) overlap the work below
 *   reclaim   leftovers of runs whose tsbox was killed (SIGKILL leaves no chance to clean)
 *   rootfs    extracted (or found in the cache) as the overlay's lower layer
 *   network   the init's net namespace gets its network (network/container-network.ts):
 *             the lease first, recorded as a resource for gc, resolv.conf/hosts for the /etc
 *             files; its links are wired once the plan is sent, while the init mounts
 *   plan      sent to the init: mounts, pivot_root, identity, credentials, command
 *   created   the init did every step and is held before exec ({t:"created"}): the
 *             container exists (OCI "created"); `tsbox create` stops here (hooks.holdUntilStart)
 *   start     {t:"start"}: the init becomes the command; from here, signals are forwarded to it
 *   wait      exit status (128+N for a signal), resource stats
 *   delete    the cleanup stack unwinds; what the container dir recorded (container/resources.ts)
 *             is released by kind, the same releases gc uses after a crash
 *
 * The four phases are the functions createPhase, startPhase, waitPhase and the unwind in
 * runContainer; they share one cleanup stack so that a failure in any of them unwinds it all.
 */
import { writeFile } from 'node:fs/promises';
import { readFileSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { createContainerCgroup, plannedCgroupPath, UNMEASURED, type CgroupStats, type ContainerCgroup } from '../cgroups/index.js';
import { removeEarlyGroup, type EarlyGroup } from '../cgroups/early-group.js';
import { applyDevicePolicy } from '../devices/index.js';
import { linuxDevicePolicySys } from '../devices/linux.js';
import { asTsboxError, TsboxError } from '../errors.js';
import { prepareImage } from '../image/index.js';
import type { InitMessage, InitPlan } from '../init/protocol.js';
import type { Logger } from '../log.js';
import { hostnameFile } from '../mounts/etc-files.js';
import { giveContainerNetwork, type GivenNetwork } from '../network/container-network.js';
import { ownNetns } from '../network/container-network-config.js';
import { netContext } from '../network/context.js';
import { describeTrace } from '../network/trace.js';
import { RESOLVED_UPSTREAM } from '../network/resolv.js';
import { planMounts } from '../mounts/plan.js';
import { takeEarlyInit } from '../namespaces/early-init.js';
import { joinsNetworkLate, spawnInitPlaced } from '../namespaces/init-placement.js';
import { ownPidIpcUts } from '../namespaces/modes.js';
import { logInitSpawn } from '../namespaces/spawn-trace.js';
import { tracedStep } from './trace-step.js';
import type { TracedCall } from '../sys/libc.js';
import { describeSecurityPlan } from '../security/index.js';
import type { RunSpec } from '../spec/run-spec.js';
import { CleanupStack } from './cleanup.js';
import { hostReleasers, processStartTime } from '../container/release.js';
import { describeResource, releaseAll } from '../container/resources.js';
import { createContainerDir } from './container-dir.js';
import { reclaimDeadRuns, shortMessage } from './gc.js';
import { exitStatus, InitConnection } from './init-connection.js';
import { commandStarted, followToExit } from './follow-command.js';
import { STATIC_INIT_HOST_PATH } from '../mounts/static-init.js';
import { containerPaths } from './paths.js';
import { forwardSignals, type SignalRouting } from './signals.js';
import { listHostDevices } from './host-devices.js';
import { openContainerTerminal } from './terminal.js';
import { openOutputLog, type OutputLogPaths } from './output-log.js';
import { relayTerminals } from './stdio-relay.js';
import type { OutputCopy } from './output-drain.js';
import { processPlanSettings } from '../spec/process-settings.js';

export interface RunResult {
  id: string;
  /** The command's exit status, or 128+N when it was killed by signal N. */
  exitCode: number;
  /** The signal that ended the command, if any. */
  signal: NodeJS.Signals | null;
  /** The kernel's OOM killer killed something in the container (memory.events oom_kill). */
  oomKilled: boolean;
  /** Resource use read from the container's cgroup just before it was removed; null where not measured (every field without a cgroup). */
  stats: CgroupStats;
  /** eth0's bytes at exit; null where not measured (--network none, host, container:). */
  network: { rxBytes: number; txBytes: number } | null;
  wallMs: number;
}

/** What the container's record (runtime/lifecycle.ts) learns from the run once it started. */
export interface StartedContainer {
  pid: number;
  cgroup: string | null;
  imageDigest: string | null;
  /** Published ports (host -> container) and the container's address, for ps, port and inspect. */
  ports: { proto: string; hostIp?: string; hostPort: number; containerPort: number }[];
  ip: string | null;
}

export interface RunHooks {
  /** Called once the command runs (after exec). */
  onStarted?: (started: StartedContainer) => void;
  /** A kept container (detached or named): record the output into its log (see output-log.ts). */
  outputLog?: OutputLogPaths;
  /** The API's timeout or AbortSignal: once aborted, the run stops as if tsbox got SIGKILL. */
  abort?: AbortSignal;
  /**
   * `tsbox create`: called once the container is created (its init held before exec);
   * the run starts it when this resolves. Absent for `tsbox run`: start follows at once.
   */
  holdUntilStart?: (created: { pid: number; cgroup: string | null; imageDigest: string | null }) => Promise<void>;
}

export async function runContainer(spec: RunSpec, log: Logger, hooks: RunHooks = {}): Promise<RunResult> {
  const started = nowMs();
  const cleanup = new CleanupStack(log);
  let result: RunResult | undefined;
  let failure: unknown;
  try {
    result = await createStartWait(spec, log, cleanup, started, hooks);
  } catch (err) {
    failure = err;
  }
  const cleanupErrors = await cleanup.unwind();
  if (failure !== undefined) {
    const e = asTsboxError(failure);
    for (const c of cleanupErrors) log.error({ err: c.message }, 'cleanup after a failed run also failed');
    throw e;
  }
  // The command ran and its status is the run's result: a leftover that could not be
  // removed now (its lock is released, so gc reclaims it) is worth one line, not a 125.
  if (cleanupErrors.length > 0) {
    log.warn({ step: 'cleanup', err: cleanupErrors.map((e) => shortMessage(e)).join('; ') }, 'cleanup left something behind; `tsbox gc` removes it');
  }
  return result!;
}

/** OCI create (up to the init held before exec), then start and wait; the caller's unwind is delete. */
async function createStartWait(spec: RunSpec, log: Logger, cleanup: CleanupStack, started: number, hooks: RunHooks): Promise<RunResult> {
  // Setup may be interrupted (Ctrl-C, SIGTERM): stop setting up, unwind, and exit 128+N.
  const interrupts = forwardSignals(log);
  cleanup.defer('signal handlers', () => interrupts.stop());
  if (hooks.abort) stopOnAbort(hooks.abort, interrupts, cleanup);

  const step = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    log.debug({ step: name }, name);
    try {
      return await fn();
    } catch (err) {
      interrupts.check(); // an interrupted step fails because we stopped it: say so instead
      throw asTsboxError(err).inStep(name);
    }
  };

  if (log.enabled('debug')) log.debug({ security: describeSecurityPlan(spec.security), limits: spec.cgroup.limits }, 'run spec');

  const paths = containerPaths(spec.root, spec.shortId);
  const dir = await step('create container directory', () => createContainerDir(spec.id, paths));
  // Delete: everything the directory recorded, released by kind, newest first (the same
  // releases gc applies after a crash), then the directory and its lock.
  const releasers = hostReleasers(log);
  cleanup.defer('container resources', async () => {
    try {
      const failures = await releaseAll(dir.resources, releasers);
      if (failures.length > 0) throw new Error(failures.map((f) => `${describeResource(f.resource)}: ${f.error.message}`).join('; '));
    } finally {
      await dir.remove();
    }
  });

  // Record the group we are about to create first: a tsbox killed between its mkdir and the
  // record below would otherwise leave a group gc cannot find (tests/integration/faults.test.ts).
  let planned: string | null = null;
  try {
    planned = plannedCgroupPath(spec.shortId, spec.cgroup.parent);
  } catch {
    // an invalid --cgroup-parent fails in the step below, with the step's name
  }
  if (planned !== null) await dir.recordResource({ kind: 'cgroup', path: planned });

  // -d or --name: the output goes into the container's log (and, in the foreground, where it always does).
  const outputLog = hooks.outputLog ? await step('open output log', () => openOutputLog(hooks.outputLog!, spec.stdio, spec.tty, spec.logLimits)) : null;
  if (outputLog) cleanup.defer('output log', () => outputLog.close());
  // Without a pty, the user's terminal is relayed through pipes, never handed to the container.
  const relay = spec.tty ? null : relayTerminals(outputLog?.stdio ?? spec.stdio, isatty);
  if (relay) cleanup.defer('terminal relay', () => relay.close());
  const initStdio = relay?.stdio ?? outputLog?.stdio ?? spec.stdio;

  const traceInit = (m: Extract<InitMessage, { t: 'trace' }>) => log.debug({ step: m.step, init: true }, m.detail ?? m.step);
  // The early init was born in new net, PID, IPC and UTS namespaces: it fits only a run that wants those.
  const { init: earlyInit, group: earlyGroup } = takeStartupInit(initStdio, cleanup, log, traceInit, ownNetns(spec.network.mode) && ownPidIpcUts(spec.namespaces));

  // Before any process starts: a limit this host cannot enforce is refused here.
  const cgroup: ContainerCgroup | null = await step('create cgroup', () => createContainerCgroup({ id: spec.shortId, parent: spec.cgroup.parent, limits: spec.cgroup.limits, log, adopt: earlyGroup?.path }));
  // Released with the other recorded resources (above), by its kind's release.
  if (cgroup) await dir.recordResource({ kind: 'cgroup', path: cgroup.path });

  const init = earlyInit ?? (await step('spawn init', async () => {
    const calls: TracedCall[] | undefined = spec.debug ? [] : undefined;
    const spawned = new InitConnection(await spawnInitPlaced(spec, initStdio, calls), traceInit);
    if (calls) logInitSpawn(log, spawned.pid, calls, {}, 'init spawned');
    return spawned;
  }));
  if (init !== earlyInit) deferInitRelease(cleanup, init);
  // The init is the container's process while created (held) and running: recorded so that
  // `rm` of a created container, or gc, can kill exactly it (its start time guards the pid).
  const initStart = processStartTime(init.pid);
  if (initStart !== null) await dir.recordResource({ kind: 'process', role: 'init', pid: init.pid, startTime: initStart });
  interrupts.onInterrupt(() => init.child.kill('SIGKILL'));
  const copied = outputLog?.start();
  const relayedStdio = relay?.start();

  // Moving a process between cgroups waits for an RCU grace period (~15 ms): the early init
  // started that move before the CLI was loaded; otherwise do it on libuv's pool while the
  // init boots and the rootfs is prepared. It completes before the plan is sent, so the
  // container's first instruction already runs inside its group.
  const joinedEarly = init === earlyInit && earlyGroup !== null && cgroup?.path === earlyGroup.path ? earlyGroup.joined : Promise.resolve(false);
  const joinedCgroup = cgroup ? step('move init into cgroup', async () => {
    if (!(await joinedEarly)) await writeFile(cgroup.procsFile, String(init.pid));
    log.debug({ pid: init.pid }, 'init moved into cgroup');
  }) : Promise.resolve();
  joinedCgroup.catch(() => {}); // awaited below; do not let an early failure go unhandled

  // While the init moves: reclaim what killed runs left (their directories, groups, records).
  await step('reclaim dead runs', () => reclaimDeadRuns(spec.root, log));

  // An image's layers stay referenced while the container exists (rmi and prune keep them):
  // recorded before they are taken, released with the rest (gc too).
  const fromImage = spec.rootfs.image ? { id: spec.rootfs.image.id, holder: { ref: spec.id, holder: `container ${spec.name ?? spec.shortId}` }, container: { upper: paths.upper, work: paths.work } } : spec.rootfs.image;
  if (fromImage) await dir.recordResource({ kind: 'image-layers', root: spec.root, ref: fromImage.holder.ref });
  // A signal stops an extraction in progress (which removes its partial tree); on a
  // terminal, a long one shows its progress on stderr.
  const image = await step('prepare rootfs', () => prepareImage(spec.rootfs.source, {
    image: fromImage,
    root: spec.root,
    maxRootfsSize: spec.rootfs.maxSize,
    maxRootfsEntries: spec.rootfs.maxEntries,
    log,
    signal: interrupts.aborted,
    progress: isatty(2) ? { write: (text) => void writeSync(2, text) } : undefined,
  }));
  interrupts.check();

  // The network: checked, its netns opened and its /etc files made here; its lease (owned by
  // this process, the monitor with -d), record and links come in "wire network", while the
  // init mounts (a SIGKILLed tsbox's veth, ports and lease go with the next command or gc).
  const net: GivenNetwork = await step('attach network', () => giveContainerNetwork(
    () => netContext(spec.debug ? { trace: (e) => log.debug({ step: 'attach network' }, describeTrace(e)) } : {}),
    spec.network, { id: spec.id, name: spec.name ?? spec.shortId, hostname: spec.hostname }, init.pid, process.pid,
    { resolvConf: readOptional('/etc/resolv.conf'), upstream: readOptional(RESOLVED_UPSTREAM) }));
  // The fast release (the veth goes with the namespace when the init is gone); the recorded
  // entry releases again, idempotently, with the other resources.
  cleanup.defer('network', () => net.release(init.child.exitCode !== null || init.child.signalCode !== null));
  interrupts.check();

  await step('write /etc files', () => Promise.all([
    writeFile(paths.etc.hostname, hostnameFile(spec.hostname)),
    writeFile(paths.etc.hosts, net.etc.hosts),
    writeFile(paths.etc.resolvConf, net.etc.resolvConf),
  ]));

  await joinedCgroup;
  interrupts.check();

  // Deny by default, before the init may open a device (docker's policy, see
  // devices/policy.ts). Only now: attaching takes the cgroup lock, which a move into a
  // group holds through its RCU wait, so attached earlier it would stall this thread
  // instead of letting the work above overlap the move.
  await step('apply device policy', () => tracedStep(log, spec.debug, 'apply device policy', () => applyDevicePolicy(spec, cgroup?.path ?? null, log, linuxDevicePolicySys)));

  const plan: InitPlan = {
    containerId: spec.id,
    rootfs: { lower: image.treeDir, lowers: image.lowers ?? null, upper: paths.upper, work: paths.work, merged: paths.merged, readOnly: spec.rootfs.readOnly, nodev: !spec.privileged },
    hostname: spec.hostname,
    mounts: planMounts({ etcFiles: paths.etc, volumes: spec.volumes, tmpfs: spec.tmpfs, baseTmpfs: spec.readOnlyTmpfs, cgroup2: cgroup !== null, privileged: spec.privileged, hostDevices: spec.privileged ? listHostDevices() : [], staticInit: spec.init ? STATIC_INIT_HOST_PATH : null, devices: spec.devices.nodes }),
    process: { ...spec.process, ...processPlanSettings(spec.processSettings) },
    security: spec.security,
    debug: spec.debug,
    tty: spec.tty,
    init: spec.init,
    openat2: spec.openat2,
    ...(spec.namespaces.uts === 'host' || spec.namespaces.cgroupns === 'host' ? { shared: { uts: spec.namespaces.uts === 'host', cgroupns: spec.namespaces.cgroupns === 'host' } } : {}),
    ...(joinsNetworkLate(spec) ? { lateNetns: true } : {}),
    ...(spec.sysctl.length > 0 ? { sysctl: spec.sysctl } : {}),
  };
  await step('start init', () => init.expectReady());
  log.debug({ pid: init.pid }, 'init ready');
  init.send(plan);
  // The lease, the network's record, /etc/hosts with the address, and the links (veth, eth0's
  // address and route, published ports) are made while the init sets up its mounts, and before
  // the start message: the command never runs without its network.
  await step('wire network', () => net.wire({ record: (resources) => dir.recordResource({ kind: 'network', resources }), hostsFile: paths.etc.hosts }));
  // tsbox run starts at once: the start message is queued behind the plan, so the init finds
  // it waiting at the sync point instead of polling for it (no round trip on the foreground
  // path). It still blocks there until every setup step is done. Not with -t: the pty
  // exchange must come first on the socket.
  // Nor with --explain: its figures are read from the init while it is held before exec.
  const startQueued = !hooks.holdUntilStart && !spec.tty && !spec.log.explain;
  if (startQueued) init.start();
  // -t: the init asks for the pty once the container's devpts is mounted (see runtime/terminal.ts).
  const terminal = spec.tty ? await step('allocate terminal', () => openContainerTerminal(init)) : null;
  if (terminal) cleanup.defer('terminal', () => terminal.close());
  await step('set up container', () => init.expectCreated());
  interrupts.check();
  const created: CreatedContainer = { init, cgroup, imageDigest: image.digest, net, terminal, outputLog, copied, relayedStdio, interrupts, startQueued };
  log.debug({ pid: init.pid }, 'container created');
  if (hooks.holdUntilStart) {
    // Held until started, or until the init dies (tsbox rm of a created container kills it).
    const killed = init.exited.then((e) => {
      throw new TsboxError(`the container's init was killed (${e.signal ?? `status ${e.code}`}) before it was started`);
    });
    killed.catch(() => {});
    await step('wait for start', () => Promise.race([hooks.holdUntilStart!({ pid: init.pid, cgroup: cgroup?.path ?? null, imageDigest: image.digest }), killed]));
    interrupts.check();
  }
  await startPhase(created, step, hooks, log);
  return waitPhase(spec, created, started);
}

/** What the create phase hands to start and wait. */
interface CreatedContainer {
  init: InitConnection;
  cgroup: ContainerCgroup | null;
  imageDigest: string | null;
  net: GivenNetwork;
  terminal: Awaited<ReturnType<typeof openContainerTerminal>> | null;
  outputLog: Awaited<ReturnType<typeof openOutputLog>> | null;
  copied: OutputCopy | undefined;
  relayedStdio: OutputCopy | undefined;
  interrupts: SignalRouting;
  /** The start message already went with the plan (tsbox run without -t). */
  startQueued: boolean;
}

type Step = <T>(name: string, fn: () => T | Promise<T>) => Promise<T>;

/** OCI start: release the held init; it execs the command. */
async function startPhase(c: CreatedContainer, step: Step, hooks: RunHooks, log: Logger): Promise<void> {
  if (!c.startQueued) c.init.start();
  await step('start container', () => commandStarted(c.init, c.interrupts));
  // A signal that came while the init exec'd was one during setup: the run stops, and says so.
  c.interrupts.check();
  log.debug({ pid: c.init.pid }, 'container started');
  hooks.onStarted?.({ pid: c.init.pid, cgroup: c.cgroup?.path ?? null, imageDigest: c.imageDigest, ports: c.net.ports, ip: c.net.ip });
}

/** Wait for the command's end, drain its output, read what it used. */
async function waitPhase(spec: RunSpec, c: CreatedContainer, started: number): Promise<RunResult> {
  const { init, cgroup, terminal, outputLog, copied, relayedStdio } = c;
  const relayed = terminal?.relay(outputLog ? (data) => outputLog.record(data) : undefined);
  // The pipes close when the last process of the container is gone, right after its PID 1.
  const exit = await followToExit(init, relayed, [copied, relayedStdio]);
  const wallMs = nowMs() - started;
  const stats = cgroup ? cgroup.readStats() : UNMEASURED;
  const oomKilled = cgroup ? cgroup.oomKilled() : false;
  const network = c.net.bytes();
  const exitCode = exitStatus(exit);
  return { id: spec.id, exitCode, signal: exit.signal, oomKilled, stats, network, wallMs };
}

/**
 * The init the CLI spawned at start-up, with the group it made and joined for it under the
 * container's id (namespaces/early-init.ts), when they fit this run; the group, taken either
 * way, is removed at the end unless the run adopted it as the container's.
 */
function takeStartupInit(stdio: RunSpec['stdio'], cleanup: CleanupStack, log: Logger, trace: (m: Extract<InitMessage, { t: 'trace' }>) => void, fits: boolean): { init: InitConnection | null; group: EarlyGroup | null } {
  // A stdio no run asks for makes the slot kill the init and hand over its group only.
  const early = takeEarlyInit(fits ? stdio : [-1, -1, -1]);
  const group = early?.group ?? null;
  if (group) cleanup.defer('early cgroup', () => removeEarlyGroup(group));
  if (!early?.init) return { init: null, group };
  const init = new InitConnection(early.init, trace);
  deferInitRelease(cleanup, init);
  // Its unshare and spawn ran before there was a logger: say what they did.
  if (log.enabled('debug')) logInitSpawn(log, init.pid, early.calls, { namespaces: 'mnt uts ipc net pid', cgroup: group?.path ?? null }, 'init spawned at start-up, before the command line was read');
  return { init, group };
}

/** Setup stops and unwinds (137), or the running command gets SIGKILL: nothing is left either way. */
function stopOnAbort(abort: AbortSignal, interrupts: SignalRouting, cleanup: CleanupStack): void {
  const onAbort = () => interrupts.deliver('SIGKILL');
  if (abort.aborted) return onAbort();
  abort.addEventListener('abort', onAbort, { once: true });
  cleanup.defer('abort listener', () => abort.removeEventListener('abort', onAbort));
}

/** Kill the init if it still runs (setup failed, or tsbox was interrupted), and reap it. */
function deferInitRelease(cleanup: CleanupStack, init: InitConnection): void {
  cleanup.defer('init process', async () => {
    if (init.child.exitCode === null && init.child.signalCode === null) init.child.kill('SIGKILL');
    await init.exited;
  });
}

/**
 * A monotonic clock in ms. Not `performance.now()`: Node loads eleven modules (perf_hooks) on
 * the first use of the global `performance`, ~1 ms of every run's start-up.
 */
function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
