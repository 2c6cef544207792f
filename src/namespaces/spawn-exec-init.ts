/**
 * `tsbox exec`, the parent's side of joining a running container: spawn the exec-init
 * into the container's namespaces, with the same rules as spawn-init.ts (one synchronous
 * stretch on the main thread, libuv's pool already running, setns back before anything
 * else runs).
 *
 * The mount namespace is the exception: the exec-init must start from the host's files
 * (node, its bundle, koffi), so it joins the container's mount namespace itself, through
 * the fd passed as its fd 4. Meanwhile it lives in a private mount namespace made here,
 * where node is a read-only bind of itself: its /proc/PID/exe cannot be opened for writing
 * from the container (CVE-2019-5736), exactly as for the container's init.
 *
 * The PID namespace is not joined at all: the exec-init is a host process, as privileged
 * as tsbox until it starts the command, and must never be visible to the container (a
 * process there could signal it, e.g. SIGUSR1 to start Node's inspector). It gets the
 * namespace as fd 5 and sets it only as where its child, the command, is born
 * (init/exec-story.ts).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { programArgs } from '../boot/locate.js';
import { TsboxError } from '../errors.js';
import { CLONE, setns, unshare } from '../sys/namespaces.js';
import { bindHostBinaryReadOnly } from './host-binary.js';
import type { StdioChoice } from './spawn-init.js';
import { recordSyscalls, type TracedCall } from '../sys/libc.js';

/** Joined here, with the /proc/self/ns name that returns us from each. */
const JOINED = [
  { file: 'uts', home: 'uts' },
  { file: 'ipc', home: 'ipc' },
  { file: 'net', home: 'net' },
  { file: 'cgroup', home: 'cgroup' },
] as const;


/**
 * Spawn the exec-init in the namespaces of the process `pid`. `stillOurs` is asked after
 * the namespace files are open: the pid may have been reused between reading the record
 * and opening them, and the fds pin whatever they refer to. `calls` (--debug, --explain):
 * given, it receives the checked calls that join the namespaces and come back.
 */
export async function spawnExecInit(pid: number, stdio: [StdioChoice, StdioChoice, StdioChoice], stillOurs: () => boolean, calls?: TracedCall[]): Promise<ChildProcess> {
  await access('/'); // start libuv's threads now: none may start inside the container's PID namespace
  const execInitArgs = programArgs('exec-init');

  const opened: number[] = [];
  const open = (path: string) => {
    const fd = openSync(path, 'r');
    opened.push(fd);
    return fd;
  };
  try {
    let targets: number[];
    let mntFd: number;
    let pidFd: number;
    try {
      targets = JOINED.map((ns) => open(`/proc/${pid}/ns/${ns.file}`));
      mntFd = open(`/proc/${pid}/ns/mnt`);
      pidFd = open(`/proc/${pid}/ns/pid`);
    } catch (err) {
      throw new TsboxError(`cannot open the namespaces of the container's process ${pid}: ${(err as Error).message}`, { step: 'join namespaces', hint: 'The container has probably just exited.' });
    }
    if (!stillOurs()) throw new TsboxError('the container exited while joining it', { step: 'join namespaces' });
    const homeMnt = open('/proc/self/ns/mnt');
    const homes = JOINED.map((ns) => open(`/proc/self/ns/${ns.home}`));

    let child: ChildProcess;
    const recorded = calls ? recordSyscalls() : null;
    try {
      unshare(CLONE.NEWNS);
    } catch (err) {
      if (recorded) calls!.push(...recorded());
      throw err;
    }
    try {
      bindHostBinaryReadOnly(process.execPath);
      JOINED.forEach((ns, i) => setns(targets[i]!, 0, `/proc/${pid}/ns/${ns.file}`));
      child = spawn(process.execPath, execInitArgs, {
        stdio: [...stdio, 'pipe', mntFd, pidFd] as StdioOptions,
        // A session of its own, without a controlling terminal: the user's Ctrl-C reaches
        // tsbox (which forwards it) rather than the whole group; the command takes a
        // session of its own again, with the pty as its terminal for -t.
        detached: true,
        // Nothing of the caller's environment (NODE_OPTIONS, ...) reaches a privileged node.
        env: {},
      });
    } finally {
      try {
        returnHome([homeMnt, ...homes], ['mnt', ...JOINED.map((ns) => ns.home)]);
      } finally {
        if (recorded) calls!.push(...recorded());
      }
    }
    return child;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

function returnHome(fds: number[], names: string[]): void {
  fds.forEach((fd, i) => {
    try {
      setns(fd, 0, `/proc/self/ns/${names[i]}`);
    } catch (err) {
      throw new TsboxError(`cannot return to the host's ${names[i]} namespace: ${(err as Error).message}`, { step: 'join namespaces' });
    }
  });
}
