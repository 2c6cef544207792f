/**
 * The exec-init: what `tsbox exec` starts to run a new process in a running container.
 *
 * The rule it keeps: no process that holds host privileges, or can still reach host
 * resources, is ever visible to, signalable by or inspectable from the container. So the
 * exec-init never enters the container's PID namespace itself: it is a host process that
 * starts the command INTO that namespace (setns(CLONE_NEWPID) only sets where children are
 * born) and waits for it. The container can see, signal and ptrace the command alone,
 * which runs with the container's credentials from its first instruction.
 *
 * The parent spawned us in the container's UTS, IPC, network and cgroup namespaces, in a
 * private mount namespace of our own where node is a read-only bind (CVE-2019-5736), and
 * moved us into the container's cgroup before sending the plan. On the main thread only:
 *
 *   join mnt ns    setns to the container's mount namespace (fd 4). Node's threads share
 *                  one fs_struct, which setns(CLONE_NEWNS) refuses (EINVAL): unshare(CLONE_FS)
 *                  first gives the main thread its own. Root and cwd become the container's.
 *   verify root    "/" must be the very directory the container's PID 1 has as its root,
 *                  and /proc a real procfs.
 *   resolve        pty, user (from regular files only: container-file.ts), working
 *                  directory (resolved in the root), command.
 *   join pid ns    setns(fd 5): pid_for_children only; we stay in the host's.
 *   drop           the container's security plan on this thread (capabilities, bounding
 *                  set, credentials, no_new_privs, seccomp without TSYNC); non-dumpable again,
 *                  since a change of euid may make the mm dumpable (fs.suid_dumpable).
 *   spawn          posix_spawn from this thread: the child copies its credentials, filter,
 *                  namespaces and root/cwd, takes a session of its own and, with -t, opens the
 *                  pty there so it becomes its controlling terminal. Until it execs, the child
 *                  shares our (non-dumpable) memory: ptrace, /proc/PID/mem and /proc/PID/exe
 *                  are refused to the container, and glibc resets every signal handler to
 *                  SIG_DFL in the child before unblocking signals.
 *   wait           relay the signals tsbox exec forwards, reap the command, exit with its
 *                  status (128+N for a signal N).
 *
 * Between setns(mnt) and the spawn everything is synchronous (libuv's pool threads still see
 * the host's root) and no module is loaded from disk. After setns(pid) the main thread
 * cannot create threads (the kernel refuses CLONE_THREAD while pid_for_children differs):
 * the pool is started before, nothing after needs a new thread.
 *
 * Node starts its inspector on SIGUSR1 (Node 20 has no --disable-sigusr1) unless a listener
 * is installed: boot/start.ts installs one before any program runs, and we relay SIGUSR1 to
 * the command like the other signals. Only the host's root could send it to us anyway.
 */
import { closeSync, fstatSync, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { constants } from 'node:os';
import { TsboxError } from '../errors.js';
import { linuxInRootSys } from '../mounts/apply.js';
import { assertProcfs } from '../mounts/verify-proc.js';
import { applySecurityPlan } from '../security/apply.js';
import { clearCloexec, cloexecFrom } from '../sys/fd.js';
import { AT, fchown, O, openat, readlinkat, useOpenat2 } from '../sys/fs.js';
import { openDirPath, openTerminalInRoot } from '../sys/in-root.js';
import { recordSyscalls } from '../sys/libc.js';
import { traceToParent } from './trace.js';
import { CLONE, setns, unshare } from '../sys/namespaces.js';
import { kill, PR, prctl, setgid, setgroups, setuid } from '../sys/process.js';
import { posixSpawn, reapAny } from '../sys/spawn.js';
import { SysError } from '../sys/sys-error.js';
import { execErrorExitCode } from './command.js';
import { reportAndExit } from './handover.js';
import { InitChannel } from './channel.js';
import { KILL_EXEC_SIGNAL, MNT_NS_FD, PID_NS_FD, type ExecPlan } from './exec-protocol.js';
import { SYNC_FD } from './protocol.js';
import { readEtcFile, resolveCommandAs, withHome } from './story.js';
import { type ResolvedUser } from './users.js';
import { applyChildLimits, applyLimitsAndUmask, applyOomScoreAdj, raiseHardLimits, resolveProcessUser } from './process-settings.js';
import { linuxProcessSettingsSys } from './linux-settings-sys.js';
import { enterWorkingDirectoryInRoot } from './workdir.js';

const SIGKILL = 9;
const SIGTERM = 15;
/** What tsbox exec forwards (runtime/signals.ts); SIGKILL and SIGSTOP cannot be caught. */
const RELAYED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
const REAP_POLL_MS = 250;
/** UNIX98_PTY_SLAVE_MAJOR and the 7 majors after it (linux/major.h). */
const PTY_SLAVE_MAJOR_FIRST = 136;
const PTY_SLAVE_MAJOR_LAST = 143;
/** fchown's "leave the group as it is" ((gid_t)-1). */
const NO_CHANGE = 0xffffffff;

export async function runExecInit(): Promise<void> {
  // libuv's pool, now: after setns(pid) this thread can start no thread.
  await access('/');
  const channel = new InitChannel(SYNC_FD);
  let current = 'start exec';
  const step = <T>(name: string, fn: () => T): T => {
    current = name;
    return fn();
  };
  let command = 0;
  // Whether we are traced is in the plan: the calls before it are kept until then.
  const earlyCalls = recordSyscalls();
  try {
    // Our memory and /proc entries stay out of reach (we are the host's node, as root).
    prctl(PR.SET_DUMPABLE, 0);
    // If tsbox exec dies before the command exists, so do we.
    prctl(PR.SET_PDEATHSIG, SIGKILL);
    const parent = process.ppid;
    channel.send({ t: 'ready' });
    // The plan is the parent's own output, read from a socket only it holds; checked all the same.
    const plan = channel.readExecPlan();
    // --detach: the parent's exit is expected; a closed socket before exec still ends us (readLine).
    if (plan.detached) prctl(PR.SET_PDEATHSIG, 0);
    useOpenat2(plan.openat2 !== false);
    const early = earlyCalls();
    if (plan.debug) traceToParent(channel, () => current, early, current);
    // Through the host's /proc, before we join the container's mount namespace (process-settings.ts).
    step('set oom_score_adj', () => applyOomScoreAdj(plan.process, linuxProcessSettingsSys));

    // Without openat2, the in-root resolver checks its fds through /proc/self/fd; the
    // container's /proc has no "self" for us (we are not in its PID namespace): keep ours.
    const ownFds = step('open /proc/self/fd', () => openat(AT.FDCWD, '/proc/self/fd', O.PATH | O.DIRECTORY));
    step('join mount namespace', () => {
      unshare(CLONE.FS);
      setns(MNT_NS_FD, CLONE.NEWNS, "the container's mount namespace");
      closeSync(MNT_NS_FD);
      // setns moved root and cwd; Node caches its cwd, chdir resets that cache.
      process.chdir('/');
    });
    step('verify /proc', () => assertProcfs('/proc'));
    step('verify root', () => verifySameRootAsContainer(plan.initPid ?? 1));
    const pty = plan.tty ? step('allocate terminal', () => openPtySlave(channel)) : undefined;

    const user = step('resolve user', () => resolveProcessUser(plan.process, readEtcFile));
    const env = withHome(plan.process.env, user);
    step('set working directory', () => {
      enterWorkingDirectoryInRoot(plan.process.cwd, { ...linuxInRootSys, fdPath: (fd) => readlinkat(ownFds, String(fd)) });
      closeSync(ownFds);
    });
    const path = step('find command', () => resolveCommandAs(plan.process.args[0]!, env, user));
    // The command opens the pty itself (to make it its controlling terminal), as its user:
    // the pty is this exec's alone, so it becomes the user's, as login(1) does.
    if (pty !== undefined) step('allocate terminal', () => fchown(pty, user.uid, NO_CHANGE));

    step('join pid namespace', () => {
      setns(PID_NS_FD, CLONE.NEWPID, "the container's PID namespace (for the command)");
      closeSync(PID_NS_FD);
    });
    step('raise hard rlimits', () => raiseHardLimits(plan.process, linuxProcessSettingsSys));
    step('apply security', () => dropPrivileges(plan, user));
    // Last before the spawn, which copies them (process-settings.ts).
    step('set rlimits and umask', () => applyLimitsAndUmask(plan.process, linuxProcessSettingsSys, { leaveToChild: true }));

    current = 'exec';
    // Node marks fds 0-2 close-on-exec; the command needs them. Every other fd, the sync
    // socket included, stays with us.
    for (const fd of [0, 1, 2]) clearCloexec(fd);
    cloexecFrom(3);
    // Handled once this synchronous stretch ends, by which time the command exists.
    process.on(KILL_EXEC_SIGNAL, () => killQuietly(command, SIGKILL));
    // With -t, the child reopens the very pty we checked, through our fd (/proc/self/fd/N in
    // the child: still open there until its execve), and we let go of it at once so that the
    // pty hangs up when the command's side closes.
    command = spawnCommand(path, plan.process.args, env, pty === undefined ? undefined : `/proc/self/fd/${pty}`);
    step('set rlimits of the command', () => withCommandKilledOnError(command, () => applyChildLimits(command, plan.process, linuxProcessSettingsSys)));
    current = 'exec';
    if (pty !== undefined) closeSync(pty);
    channel.send({ t: 'exec', path });
    closeSync(SYNC_FD); // the parent reads EOF as "the command runs"
    // From now on, tsbox exec's death must take the command with it, not leave it orphaned.
    // (A seccomp profile may deny prctl to us now: the command runs either way.)
    // tsbox-runtime exec --detach: the parent leaves now by design; we stay with the command.
    if (!plan.detached) {
      try {
        prctl(PR.SET_PDEATHSIG, SIGTERM);
      } catch {
        // without it, a killed tsbox exec leaves the command running, as docker exec does
      }
    }
    relayAndReap(command, plan.detached ? null : parent);
  } catch (err) {
    reportAndExit(channel, err, current);
  }
}

/**
 * Our "/" (the mount namespace's root) must be the root of the container's init (PID 1,
 * unless it shares a PID namespace: `initPid`), seen through the container's own /proc:
 * same device, same inode.
 */
function verifySameRootAsContainer(initPid: number): void {
  const ours = statSync('/');
  const theirs = statSync(`/proc/${initPid}/root/`);
  if (ours.dev !== theirs.dev || ours.ino !== theirs.ino) {
    throw new TsboxError("the container's mount namespace has a root other than its init's", { hint: 'The container changed its root (chroot, pivot_root); exec into it is refused.' });
  }
  if (process.cwd() !== '/') throw new TsboxError(`the working directory after joining the container is ${process.cwd()}, not /`);
}

/**
 * -t: the parent opens the pty in the container's devpts and tells us its number; we open
 * the slave inside the root (no symlink on the way) and check that it is a pty slave.
 */
function openPtySlave(channel: InitChannel): number {
  channel.send({ t: 'pty-request' });
  const reply = channel.readMessage();
  if (reply.t !== 'pty') throw new Error(`expected the pty from the parent, got ${reply.t}`);
  const root = openDirPath('/');
  let fd: number;
  try {
    fd = openTerminalInRoot(root, `/dev/pts/${reply.index}`);
  } finally {
    closeSync(root);
  }
  const st = fstatSync(fd);
  const major = Number(st.rdev) >> 8;
  if (!st.isCharacterDevice() || major < PTY_SLAVE_MAJOR_FIRST || major > PTY_SLAVE_MAJOR_LAST) {
    closeSync(fd);
    throw new TsboxError(`/dev/pts/${reply.index} in the container is not the pty tsbox allocated`);
  }
  return fd;
}

/** The container's plan on this thread (the one posix_spawn clones from), then non-dumpable again. */
function dropPrivileges(plan: ExecPlan, user: ResolvedUser): void {
  if (plan.security) applySecurityPlan(plan.security, { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }, { threads: 'calling' });
  else {
    setgroups(user.additionalGids);
    setgid(user.gid);
    setuid(user.uid);
  }
  // A change of euid resets the mm's dumpable flag to fs.suid_dumpable and clears the
  // parent-death signal: both must hold again before the child shares our memory.
  prctl(PR.SET_DUMPABLE, 0);
  if (prctl(PR.GET_DUMPABLE) !== 0) throw new TsboxError('the exec-init could not make itself non-dumpable');
}

function spawnCommand(path: string, args: string[], env: string[], terminal: string | undefined): number {
  try {
    return posixSpawn(path, args, env, { foregroundOnTerminal: false, newSession: true, terminal });
  } catch (err) {
    if (err instanceof SysError) {
      throw new TsboxError(`cannot execute ${path}: ${err.code === 'ENOENT' ? 'no such file or directory (or its interpreter is missing)' : err.message}`, {
        exitCode: execErrorExitCode(err.code),
      });
    }
    throw err;
  }
}

/**
 * Forward what tsbox exec forwards to us, until the command is reaped (it is our only child,
 * so its pid cannot be reused before that), then leave with its status. When tsbox exec
 * itself dies, the kernel sends us SIGTERM (the parent-death signal): then the command is
 * killed, as it would have died with us had it been exec'd in our place.
 */
function relayAndReap(child: number, parent: number | null): void {
  for (const signal of RELAYED) {
    process.on(signal, () => {
      const orphaned = signal === 'SIGTERM' && parent !== null && process.ppid !== parent;
      killQuietly(child, orphaned ? SIGKILL : constants.signals[signal]);
    });
  }
  const reap = () => {
    for (let r = reapAny(); r !== null; r = reapAny()) {
      if (r.pid === child) leaveAs(r.status, r.signal);
    }
  };
  process.on('SIGCHLD', reap);
  // SIGCHLDs coalesce and may arrive before the listener: poll as well, cheaply.
  setInterval(reap, REAP_POLL_MS);
  reap();
}

/**
 * End the way the command ended, so that tsbox exec (and the API) sees a signal as a signal,
 * not as an exit status of 128+N. SIGUSR1 is the exception: without our listener Node would
 * start its inspector instead of dying, so that one ends as exit status 138.
 */
function leaveAs(status: number, signal: number | null): never {
  const name = signal === null ? undefined : (Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] as NodeJS.Signals | undefined);
  if (name !== undefined && name !== 'SIGUSR1') {
    process.removeAllListeners(name); // the default action again
    process.kill(process.pid, name);
  }
  process.exit(status);
}

/** A command that must not run as it is (its limits could not be set) is killed before we report. */
function withCommandKilledOnError(pid: number, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    killQuietly(pid, SIGKILL);
    throw err;
  }
}

function killQuietly(pid: number, signal: number): void {
  if (pid <= 0) return; // never kill(0) or kill(-1): only the command
  try {
    kill(pid, signal);
  } catch {
    // already gone; its status is on its way
  }
}
