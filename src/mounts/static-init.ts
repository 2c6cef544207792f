/**
 * --init: a real small init as PID 1, as docker (tini, "docker-init") and podman (catatonit)
 * do, instead of tsbox's own Node init staying PID 1 (issue #10.3, #16.9). A multithreaded
 * Node process could never be a safe PID 1 inside the container: capset applies to the
 * calling thread only (6 of its 7 threads kept every capability), the container could race
 * SIGUSR1 to start its inspector, and it cost ~44 MB in the container's memory limit.
 *
 * Debian's `tini` package ships a statically linked tini (no shared library needed in the
 * image). It is bind-mounted read-only, nosuid, nodev at /dev/init and the init execs it
 * after every security step, with the command after "--": nothing of tsbox runs inside the
 * container after execve. tini forwards the signals it gets to the command, reaps orphans,
 * and exits with the command's status (128+N when a signal N killed it).
 *
 * Why /dev/init (docker: /sbin/docker-init, podman: /run/podman-init): /dev is the
 * container's own fresh tmpfs, so the mount point is made there and never in the image's
 * tree (nothing lands in the writable layer, a read-only rootfs needs no exception, no file
 * of the image is hidden); the container cannot replace it before the exec (no process of
 * it exists yet), and afterwards it is read-only.
 */

/** Debian's static tini (package tini). */
export const STATIC_INIT_HOST_PATH = '/usr/bin/tini-static';

/** Where the container sees it, and what PID 1 execs. */
export const STATIC_INIT_PATH = '/dev/init';

/** tini's command line: everything after "--" is the command, even words that look like options. */
export function staticInitArgv(command: readonly string[]): string[] {
  return [STATIC_INIT_PATH, '--', ...command];
}
