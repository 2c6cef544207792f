/**
 * `tsbox exec`, the parent's side of joining a running container: open its namespaces and
 * spawn the exec-init into them with the one spawner (spawn-init.ts, init-namespaces.ts say
 * where it is born and why it never enters the container's PID namespace).
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { TsboxError } from '../errors.js';
import { joinContainerNamespaces, type ContainerNamespaceFds } from './init-namespaces.js';
import { spawnInit, type StdioChoice } from './spawn-init.js';
import type { TracedCall } from '../sys/libc.js';

/**
 * Spawn the exec-init in the namespaces of the process `pid`. `stillOurs` is asked after
 * the namespace files are open: the pid may have been reused between reading the record
 * and opening them, and the fds pin whatever they refer to. `calls` (--debug, --explain):
 * given, it receives the checked calls that join the namespaces and come back. `preserve`:
 * fds the exec-init gets after the namespaces (tsbox-runtime exec --preserve-fds).
 */
export async function spawnExecInit(pid: number, stdio: [StdioChoice, StdioChoice, StdioChoice], stillOurs: () => boolean, calls?: TracedCall[], preserve: readonly number[] = []): Promise<ChildProcess> {
  const opened: number[] = [];
  const open = (kind: keyof ContainerNamespaceFds) => {
    const fd = openSync(`/proc/${pid}/ns/${kind}`, 'r');
    opened.push(fd);
    return fd;
  };
  try {
    let fds: ContainerNamespaceFds;
    try {
      fds = { uts: open('uts'), ipc: open('ipc'), net: open('net'), cgroup: open('cgroup'), mnt: open('mnt'), pid: open('pid') };
    } catch (err) {
      throw new TsboxError(`cannot open the namespaces of the container's process ${pid}: ${(err as Error).message}`, { step: 'join namespaces', hint: 'The container has probably just exited.' });
    }
    if (!stillOurs()) throw new TsboxError('the container exited while joining it', { step: 'join namespaces' });
    return await spawnInit({ program: 'exec-init', stdio, namespaces: joinContainerNamespaces(fds), step: 'join namespaces', calls, preserve });
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}
