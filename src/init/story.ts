/**
 * The container's init: what runs as PID 1 of the new PID namespace, from its start
 * until it becomes the user's command through execve. Each step below is named; a
 * failing step reports its name to the parent, which prints it and exits 125.
 *
 * The parent already unshared the mount, UTS, IPC, network and PID namespaces for us
 * (see namespaces/spawn-init.ts) and moved us into the container's cgroup; the cgroup
 * namespace is unshared here, so that the group appears as "/" inside.
 */
import { accessSync, closeSync, constants, fstatSync, readSync, statSync, writeSync } from 'node:fs';
import { applyMountStep, describeMountStep } from '../mounts/apply.js';
import { overlayOptions } from '../mounts/plan.js';
import { mountStackedOverlay } from '../mounts/overlay-stack.js';
import { applySecurityPlan } from '../security/apply.js';
import { clearCloexec, cloexecFrom } from '../sys/fd.js';
import { useOpenat2 } from '../sys/fs.js';
import { recordSyscalls } from '../sys/libc.js';
import { traceToParent } from './trace.js';
import { mount, MNT_DETACH, MS, pivotRoot, umount2 } from '../sys/mount.js';
import { SysError } from '../sys/sys-error.js';
import type { InitPlan } from './protocol.js';
import { CLONE, setns, sethostname, unshare } from '../sys/namespaces.js';
import { createRequire } from 'node:module';
import { linkUp } from '../sys/net.js';
import { PR, prctl } from '../sys/process.js';
import { execCommand, reportAndExit } from './handover.js';
import { InitChannel } from './channel.js';
import { openHoldFifo, waitAtHoldFifo } from './hold-fifo.js';
import { resolveCommand, type CommandFs } from './command.js';
import { switchUser } from './credentials.js';
import { LATE_NETNS_FD, SYNC_FD } from './protocol.js';
import { attachTerminal } from './terminal.js';
import { type ResolvedUser } from './users.js';
import { applyLimitsAndUmask, applyOomScoreAdj, raiseHardLimits, resolveProcessUser } from './process-settings.js';
import { linuxProcessSettingsSys, linuxSysctlSys } from './linux-settings-sys.js';
import { sysctlWritePoint, writeSysctls } from './sysctl.js';
import { finishMounts } from '../mounts/apply.js';
import { assertProcfs } from '../mounts/verify-proc.js';
import { enterWorkingDirectoryInRoot } from './workdir.js';
import { STATIC_INIT_PATH, staticInitArgv } from '../mounts/static-init.js';
import { readContainerFile, type ContainerFileSys } from './container-file.js';
import { linuxInRootSys } from '../mounts/apply.js';
import { InRoot } from '../fs/in-root/resolver.js';
import { openDirPath, openReadAt, openReadInRoot } from '../sys/in-root.js';

const SIGKILL = 9;

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
  const channel = new InitChannel(SYNC_FD);
  let current = 'start init';
  const step = <T>(name: string, fn: () => T): T => {
    current = name;
    return fn();
  };
  // Whether we are traced is in the plan: the calls before it are kept until then.
  const earlyCalls = recordSyscalls();
  try {
    // If tsbox dies (even by SIGKILL), the kernel kills us, and with us, as PID 1, the whole container.
    prctl(PR.SET_PDEATHSIG, SIGKILL);
    // CVE-2019-5736: until execve we are the host's node binary. Non-dumpable, our
    // /proc/PID/exe, fd/ and mem are out of reach of any process of the container.
    prctl(PR.SET_DUMPABLE, 0);
    channel.send({ t: 'ready' });
    const plan = channel.readPlan();
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
    useOpenat2(plan.openat2 !== false);
    const early = earlyCalls();
    if (plan.debug) traceToParent(channel, () => current, early, current);

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

    const user = step('resolve user', () => resolveProcessUser(plan.process, readEtcFile));
    const env = withHome(plan.process.env, user);
    step('set working directory', () => enterWorkingDirectory(plan.process.cwd));
    const path = step('find command', () => resolveCommandAs(plan.process.args[0]!, env, user));
    step('raise hard rlimits', () => raiseHardLimits(plan.process, linuxProcessSettingsSys));

    // Credentials, capabilities, no_new_privs and seccomp, in that order; seccomp last
    // so that everything before it may still use the syscalls it forbids.
    step('apply security', () => (plan.security ? applySecurityPlan(plan.security, { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }) : switchUser(user)));

    // The sync point of create/start: everything is set up, nothing of the user's has run.
    // We are held here until the parent (or a created container's monitor) says start; a
    // closed socket means it is gone or the container was removed: we exit (readLine).
    current = 'wait for start';
    channel.send({ t: 'created' });
    if (holdFifo !== null) {
      socketGone = true;
      // tsbox-runtime: `create` is gone; `start` releases us through the fifo, and from here
      // an error has only our stderr to go to (the engine shows it).
      waitAtHoldFifo(holdFifo);
      step('set rlimits and umask', () => applyLimitsAndUmask(plan.process, linuxProcessSettingsSys));
      current = 'exec';
      for (const fd of [0, 1, 2]) clearCloexec(fd);
      cloexecFrom(3);
      execCommand(path, plan.process.args, env);
    }
    const go = channel.readMessage();
    if (go.t !== 'start') throw new Error(`expected the start message, got ${go.t}`);

    // Last, as Node could not live under the command's `as` or `data` limit (process-settings.ts).
    step('set rlimits and umask', () => applyLimitsAndUmask(plan.process, linuxProcessSettingsSys));
    current = 'exec';
    // Node marks fds 0-2 close-on-exec; the command needs them. Every other fd, including
    // this sync socket, closes at execve: the parent reads that EOF as "exec succeeded".
    for (const fd of [0, 1, 2]) clearCloexec(fd);
    cloexecFrom(3);
    channel.send({ t: 'exec', path });
    // --init: tini (bound at /dev/init by the mount plan) becomes PID 1 and starts the command,
    // found by the same PATH lookup as above ("find command" already gave 126/127).
    if (plan.init) execCommand(STATIC_INIT_PATH, staticInitArgv(plan.process.args), env);
    execCommand(path, plan.process.args, env);
  } catch (err) {
    if (socketGone) writeToStderr(err, current);
    reportAndExit(channel, err, current);
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

/**
 * The container's /etc/passwd or /etc/group, read while we are still host root: only as a
 * regular file of bounded size inside the root (container-file.ts says why). null if missing.
 */
export function readEtcFile(path: string): string | null {
  return readContainerFile(path, linuxContainerFileSys);
}

const linuxContainerFileSys: ContainerFileSys = {
  openRead(path) {
    const root = openDirPath('/');
    try {
      return openReadInRoot(root, path);
    } catch (err) {
      if ((err as SysError).code !== 'ENOSYS') throw err;
      // Before Linux 5.6: the directory resolved inside "/" (the container's root here) by
      // the userspace walk, the last component opened in it without following it.
      const [dirFd, name] = openParentInRoot(root, path);
      try {
        return openReadAt(dirFd, name);
      } finally {
        closeSync(dirFd);
      }
    } finally {
      closeSync(root);
    }
  },
  fstat(fd) {
    const st = fstatSync(fd);
    return { mode: st.mode, size: st.size };
  },
  read: (fd, buf, offset, length) => readSync(fd, buf, offset, length, null),
  close: closeSync,
};

/** The directory of `path` (resolved in the root) as an fd we hold, and the last name. */
function openParentInRoot(rootFd: number, path: string): [number, string] {
  const parts = path.split('/').filter((p) => p !== '');
  return [new InRoot(rootFd, linuxInRootSys, '/').openDir(parts.slice(0, -1)), parts.at(-1) ?? '.'];
}

export function withHome(env: string[], user: ResolvedUser): string[] {
  return env.some((e) => e.startsWith('HOME=')) ? env : [...env, `HOME=${user.home}`];
}

/** Resolved and created inside the new root (CVE-2024-21626): see workdir.ts. */
function enterWorkingDirectory(cwd: string): void {
  enterWorkingDirectoryInRoot(cwd, linuxInRootSys);
}

const containerFs: CommandFs = {
  kind(path) {
    try {
      return statSync(path).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'missing';
    }
  },
  executable(path) {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * The init still runs as root here, and access(X_OK) is always true for root on a file with
 * any x bit; a non-root user needs the bits that apply to it, which is what execve will check.
 */
export function resolveCommandAs(name: string, env: string[], user: ResolvedUser): string {
  if (user.uid === 0) return resolveCommand(name, env, containerFs);
  return resolveCommand(name, env, {
    kind: containerFs.kind,
    executable(path) {
      try {
        const st = statSync(path);
        const bits = st.uid === user.uid ? 0o100 : st.gid === user.gid || user.additionalGids.includes(st.gid) ? 0o010 : 0o001;
        return (st.mode & bits) !== 0;
      } catch {
        return false;
      }
    },
  });
}
