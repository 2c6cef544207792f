/**
 * Starting the container's init in new namespaces, from a multithreaded Node process.
 *
 * Node cannot fork safely and clone(CLONE_NEWUSER) fails in any multithreaded process,
 * but unshare() of the other namespaces works on the main thread: it moves only the
 * calling thread, and a child spawned right after is born in them (for CLONE_NEWPID, as
 * PID 1 of the new namespace). The main thread then returns to the host's namespaces
 * with setns() on fds taken before. Three rules make this safe:
 *  - unshare, spawn and setns happen in one synchronous stretch: nothing else may run
 *    on this thread while it sits in the container's namespaces;
 *  - libuv's thread pool must already be running: after unshare(CLONE_NEWPID) no thread
 *    can be created until we setns back, and Node aborts if the pool starts then;
 *  - the cgroup namespace is not unshared here but by the init itself, after it joined
 *    the container's cgroup, so that the group is "/" inside.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { programArgs } from '../boot/locate.js';
import { TsboxError } from '../errors.js';
import { SysError } from '../sys/sys-error.js';
import { CLONE, setns, unshare } from '../sys/namespaces.js';
import { recordSyscalls, type TracedCall } from '../sys/libc.js';
import { bindHostBinaryReadOnly } from './host-binary.js';
import { NEW_NAMESPACES, PLACED, unshareFlags, type InitPlacement } from './placement.js';

export { NEW_NAMESPACES, type InitPlacement, type NsChoice } from './placement.js';
import { keepCwd } from './keep-cwd.js';

/** The namespaces the init is born in, with the /proc/self/ns name that returns us from each. */
const NAMESPACES = [
  { flag: CLONE.NEWNS, file: 'mnt' },
  { flag: CLONE.NEWUTS, file: 'uts' },
  { flag: CLONE.NEWIPC, file: 'ipc' },
  { flag: CLONE.NEWNET, file: 'net' },
  { flag: CLONE.NEWPID, file: 'pid_for_children' },
] as const;

export const INIT_NAMESPACE_FLAGS = NAMESPACES.reduce((flags, ns) => flags | ns.flag, 0);

export type StdioChoice = 'inherit' | 'ignore' | number;

/**
 * `calls` (--debug, --explain): given, it receives the checked calls made here (unshare,
 * setns, the mounts of the read-only node bind, the setns back home), unformatted.
 * `lateNetns`: an fd the init gets as fd 4 (LATE_NETNS_FD), the network namespace it joins
 * itself once it is safe (init-placement.ts says when and why).
 */
export async function spawnInitInNamespaces(stdio: [StdioChoice, StdioChoice, StdioChoice], placement: InitPlacement = NEW_NAMESPACES, calls?: TracedCall[], lateNetns: number | null = null): Promise<ChildProcess> {
  // Any fs call on the pool starts libuv's threads now, while we still may create them.
  await access('/');

  const initArgs = programArgs('init'); // before unshare: it may need to look on disk
  const homeFds = NAMESPACES.map((ns) => openSync(`/proc/self/ns/${ns.file}`, 'r'));
  // The setns back to the host's mount namespace moves us to `/`: keep the user's directory.
  const cwd = keepCwd();
  const recorded = calls ? recordSyscalls() : null;
  let child: ChildProcess;
  try {
    try {
      unshare(unshareFlags(placement));
      // Joined ones are left by returnHome with the others (for pid: pid_for_children, where the init is born).
      for (const [type, flag] of Object.entries(PLACED)) {
        const choice = placement[type as keyof InitPlacement];
        if (choice.kind === 'join') setns(choice.fd, flag, choice.what ?? `the ${type} namespace of --${type === 'net' ? 'network' : type} container:`);
      }
    } catch (err) {
      if (err instanceof SysError && err.code === 'EPERM') throw err.withHint('Creating namespaces needs root (CAP_SYS_ADMIN): run tsbox as root, e.g. with sudo.');
      throw err;
    }
    try {
      // CVE-2019-5736: the init's /proc/PID/exe must point at a read-only node.
      bindHostBinaryReadOnly(process.execPath);
      child = spawn(process.execPath, initArgs, {
        stdio: [...stdio, 'pipe', ...(lateNetns === null ? [] : [lateNetns])] as StdioOptions,
        // A session of its own: the terminal's Ctrl-C reaches tsbox, which forwards it once,
        // and the container has no controlling terminal it could push input into (TIOCSTI).
        detached: true,
        // Nothing of the caller's environment reaches the init (--no-openat2 comes in its plan).
        env: {},
      });
    } finally {
      returnHome(homeFds);
    }
  } finally {
    if (recorded) calls!.push(...recorded());
    for (const fd of homeFds) closeSync(fd);
    cwd.restore();
  }
  return child;
}

function returnHome(fds: number[]): void {
  NAMESPACES.forEach((ns, i) => {
    try {
      setns(fds[i]!, 0, `/proc/self/ns/${ns.file}`);
    } catch (err) {
      // Staying in the container's namespaces would make every later step wrong; stop here.
      throw new TsboxError(`cannot return to the host's ${ns.file} namespace: ${(err as Error).message}`, { step: 'spawn init' });
    }
  });
}
