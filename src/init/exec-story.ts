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
import { TsboxError } from '../errors.js';
import { linuxInRootSys } from '../mounts/apply.js';
import { assertProcfs } from '../mounts/verify-proc.js';
import { AT, fchown, O, openat, readlinkat } from '../sys/fs.js';
import { openDirPath, openTerminalInRoot } from '../sys/in-root.js';
import { CLONE, setns, unshare } from '../sys/namespaces.js';
import { PR, prctl } from '../sys/process.js';
import { dropPrivileges, handOver } from './become.js';
import type { InitChannel } from './channel.js';
import { MNT_NS_FD, PID_NS_FD } from './exec-protocol.js';
import { InitSteps } from './init-steps.js';
import { resolveProcess } from './resolve-process.js';
import { spawnAndWait } from './spawn-command.js';
import { EXEC_PRESERVED_FROM, preservedFdMoves } from './preserved-fds.js';
import { applyOomScoreAdj } from './process-settings.js';
import { linuxProcessSettingsSys } from './linux-settings-sys.js';

/** UNIX98_PTY_SLAVE_MAJOR and the 7 majors after it (linux/major.h). */
const PTY_SLAVE_MAJOR_FIRST = 136;
const PTY_SLAVE_MAJOR_LAST = 143;
/** fchown's "leave the group as it is" ((gid_t)-1). */
const NO_CHANGE = 0xffffffff;

export async function runExecInit(): Promise<void> {
  // libuv's pool, now: after setns(pid) this thread can start no thread.
  await access('/');
  const init: InitSteps = new InitSteps('start exec');
  const step = init.step.bind(init);
  try {
    const plan = init.begin((c) => c.readExecPlan());
    // --detach: the parent's exit is expected; a closed socket before exec still ends us (readLine).
    if (plan.detached) prctl(PR.SET_PDEATHSIG, 0);
    // tsbox-runtime exec --detach: the parent leaves once the command runs, by design; we stay with it.
    const parent = plan.detached ? null : process.ppid;
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
    const pty = plan.tty ? step('allocate terminal', () => openPtySlave(init.channel)) : undefined;

    const proc = resolveProcess(init, plan.process, { ...linuxInRootSys, fdPath: (fd) => readlinkat(ownFds, String(fd)) });
    closeSync(ownFds);
    // The command opens the pty itself (to make it its controlling terminal), as its user:
    // the pty is this exec's alone, so it becomes the user's, as login(1) does.
    if (pty !== undefined) step('allocate terminal', () => fchown(pty, proc.user.uid, NO_CHANGE));

    step('join pid namespace', () => {
      setns(PID_NS_FD, CLONE.NEWPID, "the container's PID namespace (for the command)");
      closeSync(PID_NS_FD);
    });
    // The container's plan on this thread alone (the one posix_spawn clones from).
    dropPrivileges(init, plan.process, plan.security, proc.user, 'calling');
    // The sync socket and every other fd stay with us; the command gets its stdio.
    // --preserve-fds: fds 6.. of ours become the command's 3.. (file actions in the child alone).
    const inherit = preservedFdMoves(EXEC_PRESERVED_FROM, plan.preserveFds ?? 0);
    handOver(init, plan.process, 'calling', () => spawnAndWait(init, proc, plan.process, pty, parent, inherit));
  } catch (err) {
    init.fail(err);
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
