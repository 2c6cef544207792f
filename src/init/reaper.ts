/**
 * --init: tsbox's init stays PID 1 instead of becoming the command. It starts the
 * command with posix_spawn, forwards the signals it receives to it, reaps every process
 * that dies in the container (orphans are re-parented to PID 1), and exits with the
 * command's status (128+N if a signal N killed it); the kernel then kills what is left.
 *
 * Why the Node init itself rather than a separate reaper binary: tsbox compiles no C and
 * cannot assume the image has one. What this costs, and how it is contained:
 *  - memory: a Node process (~40 MB RSS, ~10 MB of it private) counts in the container's
 *    cgroup, like docker-init counts there;
 *  - visibility: it runs after the same credentials, capabilities, no_new_privs and
 *    seccomp as the command (like docker-init), with an empty environment, its sync socket
 *    closed and every other fd close-on-exec; PR_SET_DUMPABLE 0 keeps its memory and
 *    /proc/1/exe (the host's node binary) out of the container's reach.
 */
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { kill, PR, prctl } from '../sys/process.js';
import { posixSpawn, reapAny } from '../sys/spawn.js';

/** docker-init forwards these; SIGCHLD is ours, SIGKILL/SIGSTOP cannot be caught. */
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'] as const;
const SAFETY_NET_MS = 250;

export function hideInitFromContainer(): void {
  prctl(PR.SET_DUMPABLE, 0);
}

/** Spawn the command (throws on spawn failure, before the parent is told), then reap forever. */
export function startAndReap(path: string, args: readonly string[], env: readonly string[], tty: boolean, syncFd: number): void {
  const child = posixSpawn(path, args, env, { foregroundOnTerminal: tty });
  closeSync(syncFd); // the parent reads EOF as "the command runs"
  for (const signal of FORWARDED) {
    process.on(signal, () => {
      try {
        kill(child, constants.signals[signal]);
      } catch {
        // already gone; its status is on its way
      }
    });
  }
  const reap = () => {
    for (let r = reapAny(); r !== null; r = reapAny()) {
      if (r.pid === child) process.exit(r.status);
    }
  };
  process.on('SIGCHLD', reap);
  // SIGCHLDs coalesce and may arrive before the listener: poll as well, cheaply.
  setInterval(reap, SAFETY_NET_MS);
  reap();
}
