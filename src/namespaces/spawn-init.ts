/**
 * Starting an init (the container's, or `tsbox exec`'s exec-init) in namespaces other than
 * ours, from a multithreaded Node process: the one spawner for both.
 *
 * Node cannot fork safely and clone(CLONE_NEWUSER) fails in any multithreaded process, but
 * unshare() and setns() work on the main thread: they move only the calling thread, and a
 * child spawned right after is born where that thread is (for CLONE_NEWPID, as PID 1 of the
 * new namespace). The main thread then returns to the host's namespaces with setns() on fds
 * taken before. Three rules make this safe:
 *  - unshare/setns, spawn and the setns back happen in one synchronous stretch: nothing
 *    else may run on this thread while it sits in the container's namespaces;
 *  - libuv's thread pool must already be running: after unshare(CLONE_NEWPID) no thread
 *    can be created until we setns back, and Node aborts if the pool starts then;
 *  - the mount namespace the child is born in is always a new one, where node's path is a
 *    read-only bind of itself (CVE-2019-5736): the child's /proc/PID/exe cannot be opened
 *    for writing from the container. A joining exec-init enters the container's mount
 *    namespace itself, from the fd it is given (init/exec-story.ts).
 *
 * What to unshare, join and hand over is the caller's plan (namespaces/init-namespaces.ts):
 * new namespaces for a container's init, the container's for an exec-init.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { programArgs } from '../boot/locate.js';
import { TsboxError } from '../errors.js';
import { SysError } from '../sys/sys-error.js';
import { setns, unshare } from '../sys/namespaces.js';
import { recordSyscalls, type TracedCall } from '../sys/libc.js';
import { bindHostBinaryReadOnly } from './host-binary.js';
import { homeNamespaces, newContainerNamespaces, type InitNamespaces } from './init-namespaces.js';
import { keepCwd } from './keep-cwd.js';
import { NEW_NAMESPACES, type InitPlacement } from './placement.js';

export { INIT_NAMESPACE_FLAGS } from './init-namespaces.js';
export { NEW_NAMESPACES, type InitPlacement, type NsChoice } from './placement.js';

export type StdioChoice = 'inherit' | 'ignore' | number;

export interface SpawnInitRequest {
  /** The program started: the container's init or the exec-init (src/boot/programs.ts). */
  program: 'init' | 'exec-init';
  stdio: [StdioChoice, StdioChoice, StdioChoice];
  namespaces: InitNamespaces;
  /** The step named by an error (the run's 'spawn init', exec's 'join namespaces'). */
  step: string;
  /**
   * --debug, --explain: given, it receives the checked calls made here (unshare, setns, the
   * mounts of the read-only node bind, the setns back home), unformatted.
   */
  calls?: TracedCall[];
  /** tsbox-runtime --preserve-fds: fds of ours the child gets after `namespaces.pass`. */
  preserve?: readonly number[];
}

/**
 * The child gets: fds 0-2 as asked, fd 3 the sync socket (a pipe here), fds 4... the
 * namespaces it enters itself (`namespaces.pass`), then `preserve` (init/preserved-fds.ts).
 */
export async function spawnInit(req: SpawnInitRequest): Promise<ChildProcess> {
  // Any fs call on the pool starts libuv's threads now, while we still may create them.
  await access('/');

  const args = programArgs(req.program); // before unshare: it may need to look on disk
  const homes = homeNamespaces(req.namespaces);
  const homeFds: number[] = [];
  // setns back to the host's mount namespace moves us to `/`: keep the user's directory.
  const cwd = keepCwd();
  try {
    for (const name of homes) homeFds.push(openSync(`/proc/self/ns/${name}`, 'r'));
    const recorded = req.calls ? recordSyscalls() : null;
    let left = false;
    try {
      enter(req.namespaces, () => (left = true));
      // CVE-2019-5736: the child's /proc/PID/exe must point at a read-only node.
      bindHostBinaryReadOnly(process.execPath);
      return spawn(process.execPath, args, {
        stdio: [...req.stdio, 'pipe', ...req.namespaces.pass, ...(req.preserve ?? [])] as StdioOptions,
        // A session of its own, without a controlling terminal: the terminal's Ctrl-C reaches
        // tsbox, which forwards it once, and the container has no controlling terminal it
        // could push input into (TIOCSTI). A command under -t gets the pty as its own.
        detached: true,
        // Nothing of the caller's environment (NODE_OPTIONS, ...) reaches a privileged node;
        // --no-openat2 comes in the plan.
        env: {},
      });
    } finally {
      // Also when a setns after the unshare failed; not when nothing was left (without
      // root, the setns home would fail too and hide why).
      try {
        if (left) returnHome(homes, homeFds, req.step);
      } finally {
        if (recorded) req.calls!.push(...recorded());
      }
    }
  } finally {
    for (const fd of homeFds) closeSync(fd);
    cwd.restore();
  }
}

/**
 * The container's init, born where `placement` says (placement.ts). `calls`: see
 * SpawnInitRequest. `lateNetns`: an fd the init gets as fd 4 (LATE_NETNS_FD), the network
 * namespace it joins itself once it is safe (init-placement.ts says when and why).
 * `preserve`: see SpawnInitRequest.
 */
export function spawnInitInNamespaces(stdio: [StdioChoice, StdioChoice, StdioChoice], placement: InitPlacement = NEW_NAMESPACES, calls?: TracedCall[], lateNetns: number | null = null, preserve: readonly number[] = []): Promise<ChildProcess> {
  return spawnInit({ program: 'init', stdio, namespaces: newContainerNamespaces(placement, lateNetns), step: 'spawn init', calls, preserve });
}

function enter(ns: InitNamespaces, onLeft: () => void): void {
  try {
    if (ns.unshare !== 0) {
      unshare(ns.unshare);
      onLeft();
    }
    for (const j of ns.join) {
      setns(j.fd, j.flag, j.what);
      onLeft();
    }
  } catch (err) {
    if (err instanceof SysError && err.code === 'EPERM') throw err.withHint('Creating namespaces needs root (CAP_SYS_ADMIN): run tsbox as root, e.g. with sudo.');
    throw err;
  }
}

function returnHome(names: readonly string[], fds: number[], step: string): void {
  fds.forEach((fd, i) => {
    try {
      setns(fd, 0, `/proc/self/ns/${names[i]}`);
    } catch (err) {
      // Staying in the container's namespaces would make every later step wrong; stop here.
      throw new TsboxError(`cannot return to the host's ${names[i]} namespace: ${(err as Error).message}`, { step });
    }
  });
}
