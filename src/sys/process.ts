import { readFileSync } from 'node:fs';
import { check, libc } from './libc.js';
import { prctlArgs, signalName } from '../explain/format-call.js';

const prctlFn = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const execveFn = libc.func('int execve(const char *path, const char **argv, const char **envp)');
const setuidFn = libc.func('int setuid(uint32_t uid)');
const setgidFn = libc.func('int setgid(uint32_t gid)');
const setgroupsFn = libc.func('int setgroups(size_t size, const uint32_t *list)');
const killFn = libc.func('int kill(int pid, int sig)');
const fchdirFn = libc.func('int fchdir(int fd)');

export { PR } from './process-flags.js';

export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  return check(prctlFn(option, a2, a3, a4, a5), 'prctl', () => prctlArgs(option, a2, a3));
}

/** Replace this process. Returns only by throwing. */
export function execve(path: string, argv: readonly string[], env: readonly string[]): never {
  check(execveFn(path, [...argv, null], [...env, null]), 'execve', path);
  throw new Error('execve returned without error');
}

export function setuid(uid: number): void {
  check(setuidFn(uid), 'setuid', String(uid));
}

export function setgid(gid: number): void {
  check(setgidFn(gid), 'setgid', String(gid));
}

export function setgroups(gids: readonly number[]): void {
  check(setgroupsFn(gids.length, gids.length ? [...gids] : null), 'setgroups', gids.join(','));
}

export function kill(pid: number, signal: number): void {
  check(killFn(pid, signal), 'kill', () => `${pid}, ${signalName(signal)}`);
}

/** chdir to a directory fd (an O_PATH fd is enough), without a path the kernel would walk again (nor /proc/self/fd). */
export function fchdir(fd: number): void {
  check(fchdirFn(fd), 'fchdir', () => String(fd));
}

const signalFn = libc.func('void *signal(int sig, void *handler)');
const sigprocmaskFn = libc.func('int sigprocmask(int how, const void *set, void *oldset)');
const SIG_SETMASK = 2;
const SIGSET_BYTES = 128; // glibc's sigset_t
const SIGNAL_MAX = 31; // standard signals; real-time ones Node leaves alone

/**
 * Give the next program the signal state a fresh process has. Node ignores SIGPIPE and
 * SIGXFSZ, and execve keeps ignored signals ignored: without this, `yes | head -1` in the
 * container would see EPIPE errors instead of dying quietly of SIGPIPE.
 */
export function resetSignalsForExec(): void {
  for (let sig = 1; sig <= SIGNAL_MAX; sig++) {
    if (sig === 9 || sig === 19) continue; // SIGKILL and SIGSTOP cannot be changed
    signalFn(sig, null);
  }
  check(sigprocmaskFn(SIG_SETMASK, Buffer.alloc(SIGSET_BYTES), null), 'sigprocmask', 'SIG_SETMASK, empty');
}

/**
 * The process's umask, without changing it (umask(2) can only set it): the "Umask:" line
 * of /proc/self/status (Linux 4.7+). null when it cannot be read.
 */
export function currentUmask(): number | null {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m ? parseInt(m[1]!, 8) : null;
  } catch {
    return null;
  }
}
