/**
 * The exec-init: what `tsbox exec` starts to run a new process in a running container.
 *
 * The parent spawned us already inside the container's UTS, IPC, network, PID (we are a
 * member, not PID 1) and cgroup namespaces, in a private mount namespace of our own where
 * node is a read-only bind (CVE-2019-5736, as for the container's init), and moved us into
 * the container's cgroup before sending the plan. What is left happens here:
 *
 *   join mnt ns    setns to the container's mount namespace (fd 4). Node is multithreaded
 *                  and its threads share one fs_struct, which setns(CLONE_NEWNS) refuses
 *                  (EINVAL): unshare(CLONE_FS) first gives the main thread its own. The
 *                  kernel then sets our root and cwd to the namespace's root, which is the
 *                  container's root since its init pivoted into it.
 *   verify root    "/" must be the very directory the container's PID 1 has as its root,
 *                  and /proc a real procfs: a container that changed its mounts cannot
 *                  lead us elsewhere.
 *   the rest       as the container's init: terminal, user, working directory (resolved in
 *                  the root), command, the container's security plan, execve.
 *
 * From the setns on, only the main thread is in the container: everything below must be
 * synchronous (libuv's pool threads still see the host's root) and load no module.
 */
import { closeSync, statSync } from 'node:fs';
import { TsboxError } from '../errors.js';
import { assertProcfs } from '../mounts/verify-proc.js';
import { applySecurityPlan } from '../security/apply.js';
import { clearCloexec, cloexecFrom } from '../sys/fd.js';
import { setSyscallTracer } from '../sys/libc.js';
import { CLONE, setns, unshare } from '../sys/namespaces.js';
import { PR, prctl } from '../sys/process.js';
import { execCommand, reportAndExit } from './handover.js';
import { InitChannel } from './channel.js';
import { switchUser } from './credentials.js';
import { MNT_NS_FD, type ExecPlan } from './exec-protocol.js';
import { SYNC_FD } from './protocol.js';
import { readOptional, resolveCommandAs, withHome } from './story.js';
import { attachTerminal } from './terminal.js';
import { resolveUser } from './users.js';
import { enterWorkingDirectoryInRoot } from './workdir.js';

const SIGKILL = 9;

export function runExecInit(): never {
  const channel = new InitChannel(SYNC_FD);
  let current = 'start exec';
  const step = <T>(name: string, fn: () => T): T => {
    current = name;
    return fn();
  };
  try {
    // CVE-2019-5736: we live in the container's PID namespace; until execve we are the
    // host's node, and must stay out of reach of the container's processes.
    prctl(PR.SET_DUMPABLE, 0);
    // If tsbox exec dies, so do we (and, after execve, the command: no orphaned execs).
    prctl(PR.SET_PDEATHSIG, SIGKILL);
    channel.send({ t: 'ready' });
    // The plan is the parent's own output, read from a socket only it holds.
    const plan = channel.readPlan() as unknown as ExecPlan;
    if (plan.debug) {
      setSyscallTracer((syscall, detail, result) => channel.send({ t: 'trace', step: current, detail: `${syscall}(${detail}) = ${result}` }));
    }

    step('join mount namespace', () => {
      unshare(CLONE.FS);
      setns(MNT_NS_FD, CLONE.NEWNS, "the container's mount namespace");
      closeSync(MNT_NS_FD);
      // setns moved root and cwd; Node caches its cwd, chdir resets that cache.
      process.chdir('/');
    });
    step('verify /proc', () => assertProcfs('/proc'));
    step('verify root', () => verifySameRootAsContainer());
    if (plan.tty) step('attach terminal', () => attachTerminal(channel));

    const user = step('resolve user', () => resolveUser(plan.process.user, readOptional('/etc/passwd'), readOptional('/etc/group')));
    const env = withHome(plan.process.env, user);
    step('set working directory', () => enterWorkingDirectoryInRoot(plan.process.cwd));
    const path = step('find command', () => resolveCommandAs(plan.process.args[0]!, env, user));
    step('apply security', () => (plan.security ? applySecurityPlan(plan.security, { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }) : switchUser(user)));

    current = 'exec';
    for (const fd of [0, 1, 2]) clearCloexec(fd);
    cloexecFrom(3); // the sync socket closes at execve: the parent reads that as success
    channel.send({ t: 'exec', path });
    execCommand(path, plan.process.args, env);
  } catch (err) {
    reportAndExit(channel, err, current);
  }
}

/**
 * Our "/" (the mount namespace's root) must be the root of the container's PID 1, seen
 * through the container's own /proc: same device, same inode.
 */
function verifySameRootAsContainer(): void {
  const ours = statSync('/');
  const theirs = statSync('/proc/1/root/');
  if (ours.dev !== theirs.dev || ours.ino !== theirs.ino) {
    throw new TsboxError("the container's mount namespace has a root other than its init's", { hint: 'The container changed its root (chroot, pivot_root); exec into it is refused.' });
  }
  if (process.cwd() !== '/') throw new TsboxError(`the working directory after joining the container is ${process.cwd()}, not /`);
}
