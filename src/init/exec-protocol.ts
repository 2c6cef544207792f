/**
 * `tsbox exec`: what the parent sends the exec-init (the Node process that joins a running
 * container and becomes the exec'd command). The messages back are the init's own
 * (protocol.ts): ready, trace, pty-request, exec, error.
 *
 *   exec-init fds: 0-2 stdio (the command's, without -t), 3 sync socket, 4 the container's
 *   mount namespace, 5 the container's PID namespace, 6... the fds tsbox-runtime exec
 *   --preserve-fds passes on (the command's 3...)
 */
import type { SecurityPlan } from '../security/index.js';
import type { ProcessPlan } from './protocol.js';

/** The container's mount namespace, opened by the parent from /proc/<container pid>/ns/mnt. */
export const MNT_NS_FD = 4;
/** The container's PID namespace, where the command is born (the exec-init stays in the host's). */
export const PID_NS_FD = 5;

export interface ExecPlan {
  /** user: as given to -u, or the container's own user. */
  process: ProcessPlan;
  /** The container's plan, as applied to its own process. */
  security: SecurityPlan | null;
  tty: boolean;
  debug: boolean;
  /** false with --no-openat2 (testing only): resolve as on kernels before 5.6. */
  openat2?: boolean;
  /**
   * The container's init as the container's /proc numbers it: 1 unless it shares a PID
   * namespace (--pid host, --pid container:NAME; namespaces/ns-pid.ts). Absent: 1.
   */
  initPid?: number;
  /**
   * tsbox-runtime exec --detach: our parent exits once the command runs and the engine's
   * subreaper adopts us; we stay, relay signals and leave with the command's status, instead of
   * ending the command when the parent goes.
   */
  detached?: boolean;
  /** tsbox-runtime exec --preserve-fds N: fds 6..6+N-1 of ours become the command's 3..3+N-1. */
  preserveFds?: number;
}

/**
 * Sent by tsbox exec to the exec-init to end the exec for good: before the command exists
 * its default action ends the exec-init; once the command runs, the exec-init kills it with
 * SIGKILL and leaves with its status. (SIGKILL on the exec-init itself would orphan the
 * command, which is not its child's child to the kernel.) Not one tsbox forwards.
 */
export const KILL_EXEC_SIGNAL = 'SIGPWR';
