/**
 * The container's init: what runs as PID 1 of the new PID namespace, from its start
 * until it becomes the user's command through execve. Each step below is named; a
 * failing step reports its name to the parent, which prints it and exits 125.
 *
 * The parent already unshared the mount, UTS, IPC, network and PID namespaces for us
 * (see namespaces/spawn-init.ts) and moved us into the container's cgroup; the cgroup
 * namespace is unshared here, so that the group appears as "/" inside.
 */
import { applyMountStep, describeMountStep, finishMounts } from '../mounts/apply.js';
import { overlayOptions } from '../mounts/plan.js';
import { mountStackedOverlay } from '../mounts/overlay-stack.js';
import { STATIC_INIT_PATH, staticInitArgv } from '../mounts/static-init.js';
import { assertProcfs } from '../mounts/verify-proc.js';
import { mount, MNT_DETACH, MS, pivotRoot, umount2 } from '../sys/mount.js';
import { closeSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CLONE, setns, sethostname, unshare } from '../sys/namespaces.js';
import { linkUp } from '../sys/net.js';
import { SysError } from '../sys/sys-error.js';
import { dropPrivileges, handOver } from './become.js';
import { execCommand } from './handover.js';
import { InitSteps } from './init-steps.js';
import { LATE_NETNS_FD, type InitPlan } from './protocol.js';
import { resolveProcess } from './resolve-process.js';
import { attachTerminal } from './terminal.js';
import { openHoldFifo, waitAtHoldFifo } from './hold-fifo.js';
import { initPreservedFrom, placePreservedFds } from './preserved-fds.js';
import { hooksBeforePivot, runContainerHooks } from './run-hooks.js';
import { PR, prctl } from '../sys/process.js';
import { applyOomScoreAdj } from './process-settings.js';
import { linuxProcessSettingsSys, linuxSysctlSys } from './linux-settings-sys.js';
import { sysctlWritePoint, writeSysctls } from './sysctl.js';

/** Set once `create` is gone (tsbox-runtime's hold): errors go to our stderr, the engine's pipe. */
let socketGone = false;

function writeToStderr(err: unknown, step: string): void {
  try {
    writeSync(2, `tsbox-runtime: ${step}: ${(err as Error).message ?? String(err)}\n`);
  } catch {
    // no stderr either
  }
}

export function runInit(): never {
  const init: InitSteps = new InitSteps('start init');
  const { channel } = init;
  const step = init.step.bind(init);
  try {
    const plan = init.begin((c) => c.readPlan());
    // A SIGUSR1 that reached us before boot/start.ts installed its listener started Node's
    // inspector: whoever can reach its port could run code as the host's root. Never go on.
    step('check no debugger', () => assertNoInspector());
    // tsbox-runtime: the create command exits while we wait for start; its death must not
    // kill us (the engine's subreaper is our parent from then on).
    if (plan.hold) prctl(PR.SET_PDEATHSIG, 0);
    // --pid container:NAME with a shared network: born in a fresh one, where an inspector
    // started by NAME's processes during our start-up was unreachable; now, non-dumpable and
    // with the SIGUSR1 listener, we join the real one (init-placement.ts).
    if (plan.lateNetns) {
      step('join network namespace', () => {
        setns(LATE_NETNS_FD, CLONE.NEWNET, 'the network namespace of --network');
        closeSync(LATE_NETNS_FD);
      });
    }

    // Before anything of the container's is mounted (process-settings.ts says why).
    step('set oom_score_adj', () => applyOomScoreAdj(plan.process, linuxProcessSettingsSys));

    // The parent moved us into the container's cgroup before sending the plan; a cgroup
    // namespace made now shows that group as "/" inside (--cgroupns host: the host's view stays).
    if (!plan.shared?.cgroupns) step('unshare cgroup namespace', () => unshare(CLONE.NEWCGROUP));

    // Nothing we mount from here on may propagate back to the host.
    step('make mounts private', () => mount(null, '/', null, MS.REC | MS.PRIVATE));
    const root = 'kind' in plan.rootfs ? plan.rootfs.path : plan.rootfs.merged;
    step('mount rootfs', () => mountRoot(plan.rootfs));
    // Sysctls right after /proc is mounted, before the plan makes /proc/sys read-only (sysctl.ts).
    const sysctlPoint = plan.sysctl?.length ? sysctlWritePoint(plan.mounts) ?? missingProcMount() : undefined;
    for (const m of plan.mounts) {
      step(describeMountStep(m), () => applyMountStep(root, m));
      if (m === sysctlPoint) step('set sysctls', () => writeSysctls(root, plan.sysctl!, linuxSysctlSys));
    }
    finishMounts();
    if (plan.hooks) hooksBeforePivot(init, plan.hooks);

    const holdFifo = plan.hold ? step('open exec fifo', () => openHoldFifo(plan.hold!.fifo)) : null;
    step('pivot_root', () => pivotInto(root));
    // A bind remount sets the mount's flags to exactly these: keep nodev.
    if (plan.rootfs.readOnly) step('make root read-only', () => mount(null, '/', null, MS.REMOUNT | MS.BIND | MS.RDONLY | rootFlags(plan.rootfs)));
    // CVE-2019-16884: whatever the image or a volume did, /proc must be a real procfs.
    step('verify /proc', () => assertProcfs('/proc'));
    // --uts host: we are in the host's UTS namespace; setting a name would rename the host.
    // An empty name (an OCI config without hostname): keep the one of the namespace we are in.
    if (!plan.shared?.uts && plan.hostname !== '') step('set hostname', () => sethostname(plan.hostname));
    // A network namespace that is not ours (tsbox-runtime joined one): its loopback is not ours to touch.
    if (plan.loopback !== false) step('bring up loopback', () => linkUp('lo'));
    if (plan.tty) step('attach terminal', () => attachTerminal(channel));

    const proc = resolveProcess(init, plan.process);
    dropPrivileges(init, plan.process, plan.security, proc.user, 'all');

    // The sync point of create/start: everything is set up, nothing of the user's has run.
    // We are held here until the parent (or a created container's monitor) says start; a
    // closed socket means it is gone or the container was removed: we exit (readLine).
    init.current = 'wait for start';
    channel.send({ t: 'created' });
    if (holdFifo !== null) {
      socketGone = true;
      // tsbox-runtime: `create` is gone; `start` releases us through the fifo, and from here
      // an error has only our stderr to go to (the engine shows it).
      waitAtHoldFifo(holdFifo, () => plan.hooks && runContainerHooks(init, 'startContainer', plan.hooks.startContainer, plan.hooks.stdin.startContainer));
      return handOver(init, plan.process, 'all', () => {
        // --preserve-fds: the caller's fds at 3.. now, when nothing of ours needs those numbers.
        if (plan.preserveFds) placePreservedFds(channel, initPreservedFrom(plan.lateNetns === true), plan.preserveFds);
        return execCommand(proc.path, plan.process.args, proc.env);
      });
    }
    const go = channel.readMessage();
    if (go.t !== 'start') throw new Error(`expected the start message, got ${go.t}`);

    // This sync socket closes at execve (close-on-exec): the parent reads that EOF as
    // "exec succeeded".
    return handOver(init, plan.process, 'all', () => {
      channel.send({ t: 'exec', path: proc.path });
      // --init: tini (bound at /dev/init by the mount plan) becomes PID 1 and starts the command,
      // found by the same PATH lookup as above ("find command" already gave 126/127).
      if (plan.init) execCommand(STATIC_INIT_PATH, staticInitArgv(plan.process.args), proc.env);
      return execCommand(proc.path, plan.process.args, proc.env);
    });
  } catch (err) {
    if (socketGone) writeToStderr(err, init.current);
    init.fail(err);
  }
}

function assertNoInspector(): void {
  // A node built without the inspector cannot start one (and throws when the module is loaded).
  if (!process.features.inspector) return;
  const { url } = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector');
  if (url() !== undefined) throw new Error('a debugger (Node\'s inspector) was started in the init before it could refuse SIGUSR1; the setup is abandoned');
}

function missingProcMount(): never {
  throw new Error('the plan has sysctls but no /proc mount to write them through');
}

/**
 * nodev: a device node shipped in the image (or made in the upper layer) does not open.
 * The container's devices are those of its /dev, under its device policy.
 */
function rootFlags(rootfs: InitPlan['rootfs']): number {
  return rootfs.nodev ? MS.NODEV : 0;
}

/** The image's overlay, or an OCI bundle's root bound on itself (pivot_root needs a mount point). */
function mountRoot(rootfs: InitPlan['rootfs']): void {
  if ('kind' in rootfs) mount(rootfs.path, rootfs.path, null, MS.BIND | MS.REC);
  else mountRootOverlay(rootfs);
}

/** A kernel older than 5.10 does not know `volatile` (EINVAL): mount without it. */
function mountRootOverlay(rootfs: Exclude<InitPlan['rootfs'], { kind: 'bind' }>): void {
  if (rootfs.lowers) {
    const stacked = { ...rootfs.lowers, upper: rootfs.upper, work: rootfs.work, merged: rootfs.merged, nodev: rootfs.nodev };
    try {
      mountStackedOverlay({ ...stacked, volatile: true });
    } catch (err) {
      if (!(err instanceof SysError) || err.code !== 'EINVAL') throw err;
      mountStackedOverlay({ ...stacked, volatile: false });
    }
    return;
  }
  try {
    mount('overlay', rootfs.merged, 'overlay', rootFlags(rootfs), overlayOptions(rootfs.lower, rootfs.upper, rootfs.work));
  } catch (err) {
    if (!(err instanceof SysError) || err.code !== 'EINVAL') throw err;
    mount('overlay', rootfs.merged, 'overlay', rootFlags(rootfs), overlayOptions(rootfs.lower, rootfs.upper, rootfs.work, { volatile: false }));
  }
}

/**
 * pivot_root(".", "."): the old root ends up mounted on top of the new one; detaching
 * it leaves no path back to the host's filesystem (no put_old directory needed).
 */
function pivotInto(root: string): void {
  process.chdir(root);
  pivotRoot('.', '.');
  umount2('.', MNT_DETACH);
  process.chdir('/');
}
