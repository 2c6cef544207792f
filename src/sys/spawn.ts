/**
 * posix_spawn and waitpid, for --init (tsbox's init starts the command as its child and
 * reaps every process that ends up orphaned in the container) and for `tsbox exec` (the
 * exec-init, which stays outside the container's PID namespace, starts the command in it).
 * posix_spawn (vfork-like, safe in a multithreaded process, unlike fork) is the one way
 * Node can start a process whose waiting it leaves entirely to us: child_process would
 * race our waitpid(-1).
 *
 * glibc clones the child from the CALLING thread: it gets that thread's credentials,
 * seccomp filter, no_new_privs, namespaces (pid_for_children included) and root/cwd, which
 * is what lets the exec-init drop privileges on its main thread alone and start the command.
 * In the child, before any signal is unblocked, glibc resets every handled signal to
 * SIG_DFL: no handler of ours (Node's SIGUSR1 one included) can run in the memory the
 * child shares with us until it execs.
 */
import { libc } from './libc.js';
import { SysError } from './sys-error.js';

const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const O_RDWR = 0o2;
export const WNOHANG = 1;

// Opaque glibc types, given generous room (posix_spawnattr_t is 336 bytes, file actions 80, sigset_t 128).
const ATTR_BYTES = 1024;
const ACTIONS_BYTES = 256;
const SIGSET_BYTES = 256;

const spawnFn = libc.func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)');
const attrInit = libc.func('int posix_spawnattr_init(void *attr)');
const attrSetFlags = libc.func('int posix_spawnattr_setflags(void *attr, short flags)');
const attrSetSigmask = libc.func('int posix_spawnattr_setsigmask(void *attr, void *set)');
const attrSetSigdefault = libc.func('int posix_spawnattr_setsigdefault(void *attr, void *set)');
const attrSetPgroup = libc.func('int posix_spawnattr_setpgroup(void *attr, int pgroup)');
const actionsInit = libc.func('int posix_spawn_file_actions_init(void *actions)');
const actionsTcsetpgrp = libc.func('int posix_spawn_file_actions_addtcsetpgrp_np(void *actions, int fd)');
const actionsOpen = libc.func('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int oflag, uint32_t mode)');
const actionsDup2 = libc.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)');
const actionsDestroy = libc.func('int posix_spawn_file_actions_destroy(void *actions)');
const sigemptyset = libc.func('int sigemptyset(void *set)');
const sigfillset = libc.func('int sigfillset(void *set)');
const waitpidFn = libc.func('int waitpid(int pid, _Out_ int *status, int options)');

export interface SpawnOptions {
  /** Put the child in a process group of its own and make it the terminal's foreground group (fd 0). */
  foregroundOnTerminal: boolean;
  /** A session of its own (setsid in the child, before the file actions). */
  newSession?: boolean;
  /**
   * A terminal to open as the child's fds 0-2, in the child, after setsid: a session leader
   * without a controlling terminal that opens one gets it as its controlling terminal.
   */
  terminal?: string;
  /**
   * [from, to]: the child gets our fd `from` as its fd `to` (not close-on-exec), by dup2
   * file actions in this order, after the terminal's.
   */
  inherit?: ReadonlyArray<readonly [number, number]>;
}

/**
 * Start path with argv and env. Every signal is reset to its default and unblocked in the
 * child: Node ignores SIGPIPE, and ignored signals would otherwise survive the exec.
 */
export function posixSpawn(path: string, argv: readonly string[], env: readonly string[], opts: SpawnOptions): number {
  const attr = Buffer.alloc(ATTR_BYTES);
  const actions = Buffer.alloc(ACTIONS_BYTES);
  const empty = Buffer.alloc(SIGSET_BYTES);
  const full = Buffer.alloc(SIGSET_BYTES);
  sigemptyset(empty);
  sigfillset(full);
  zero(attrInit(attr), 'posix_spawnattr_init');
  zero(actionsInit(actions), 'posix_spawn_file_actions_init');
  let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (opts.newSession) flags |= POSIX_SPAWN_SETSID;
  if (opts.terminal !== undefined) {
    zero(actionsOpen(actions, 0, opts.terminal, O_RDWR, 0), 'posix_spawn_file_actions_addopen');
    zero(actionsDup2(actions, 0, 1), 'posix_spawn_file_actions_adddup2');
    zero(actionsDup2(actions, 0, 2), 'posix_spawn_file_actions_adddup2');
  }
  for (const [from, to] of opts.inherit ?? []) zero(actionsDup2(actions, from, to), 'posix_spawn_file_actions_adddup2');
  if (opts.foregroundOnTerminal) {
    flags |= POSIX_SPAWN_SETPGROUP;
    zero(attrSetPgroup(attr, 0), 'posix_spawnattr_setpgroup');
    zero(actionsTcsetpgrp(actions, 0), 'posix_spawn_file_actions_addtcsetpgrp_np');
  }
  zero(attrSetFlags(attr, flags), 'posix_spawnattr_setflags');
  zero(attrSetSigmask(attr, empty), 'posix_spawnattr_setsigmask');
  zero(attrSetSigdefault(attr, full), 'posix_spawnattr_setsigdefault');
  const pid = [0];
  const err = spawnFn(pid, path, actions, attr, [...argv, null], [...env, null]) as number;
  actionsDestroy(actions); // addopen copied the path to the heap
  if (err !== 0) {
    // posix_spawn returns the errno instead of setting it.
    throw new SysError('posix_spawn', err, path);
  }
  return pid[0]!;
}

export interface Reaped {
  pid: number;
  /** Exit status, or 128+N for a signal N (what a shell reports). */
  status: number;
  /** The signal that ended it, or null when it exited. */
  signal: number | null;
}

/** Reap one finished child of any kind without blocking; null when none is ready. */
export function reapAny(): Reaped | null {
  const status = [0];
  const pid = waitpidFn(-1, status, WNOHANG) as number;
  if (pid <= 0) return null;
  const s = status[0]!;
  const signal = s & 0x7f;
  return { pid, status: signal === 0 ? (s >> 8) & 0xff : 128 + signal, signal: signal === 0 ? null : signal };
}

function zero(ret: unknown, what: string): void {
  if (ret !== 0) throw new Error(`${what} failed (${String(ret)})`);
}
