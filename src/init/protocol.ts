/**
 * What the parent and the container's init say to each other over the sync socket
 * (fd 3 in the init). One JSON object per line.
 *
 *   init   -> parent  {t:"ready"}          the init is alive and will die with the parent (PDEATHSIG set)
 *   parent -> init    the InitPlan          everything the init needs; nothing else is read after it
 *   init   -> parent  {t:"trace",...}      --debug only: each setup step and syscall
 *   init   -> parent  {t:"pty-request"}    -t only, once /dev/pts is mounted; the parent answers {t:"pty",index}
 *   init   -> parent  {t:"created"}        every setup step is done, security applied: the container is
 *                                          created (OCI), and the init blocks reading the socket
 *   parent -> init    {t:"start"}          exec the command now (a closed socket instead: die, nothing ran)
 *   init   -> parent  {t:"exec"}           the last message before execve; then the socket closes
 *                                          (close-on-exec), which tells the parent exec succeeded
 *   init   -> parent  {t:"error",...}      a setup step failed; the init exits after sending it
 */
import type { MountStep } from '../mounts/plan.js';
import type { SecurityPlan } from '../security/index.js';

/** The fd number of the sync socket in the init (stdio index 3 of the spawned child). */
export const SYNC_FD = 3;

/** The command to become, as the parent decided it; shared by the container's init and exec's. */
export interface ProcessPlan {
  args: string[];
  env: string[];
  cwd: string;
  /** As given to -u: "1000", "1000:1000", "name", "name:group"; resolved inside the container. */
  user: string | null;
}

/** An OCI bundle's root (tsbox-runtime): a directory the engine prepared, bound on itself and pivoted into. */
export interface BindRoot {
  kind: 'bind';
  path: string;
  readOnly: boolean;
  nodev: boolean;
}

export interface InitPlan {
  containerId: string;
  rootfs: BindRoot | {
    /** The cached, read-only image tree (overlay lower layer). */
    lower: string;
    upper: string;
    work: string;
    /** Where the overlay is mounted, then pivot_root'ed into. */
    merged: string;
    readOnly: boolean;
    /** Mount it nodev (unless --privileged): device nodes in the image do not open. */
    nodev: boolean;
  };
  hostname: string;
  mounts: MountStep[];
  process: ProcessPlan;
  security: SecurityPlan | null;
  debug: boolean;
  /** -t: ask the parent for a pty in the container's devpts and make it the command's terminal. */
  tty?: boolean;
  /** --init: exec the static init bound at /dev/init (mounts/static-init.ts), which runs the command. */
  init?: boolean;
  /** false with --no-openat2 (testing only): resolve as on kernels before 5.6. */
  openat2?: boolean;
  /**
   * tsbox-runtime (OCI create): no parent holds us. The init outlives the create command (no
   * PDEATHSIG), is held after {t:"created"} by opening this fifo for writing (init/hold-fifo.ts)
   * until `start` opens it for reading, then execs without another word on the socket.
   */
  hold?: { fifo: string };
  /** false: stay in the cgroup namespace we were born in (a config.json that asks for none). */
  cgroupNamespace?: boolean;
  /** false: the network namespace is not ours (joined, or the host's): leave its loopback alone. */
  loopback?: boolean;
  /** OCI linux.sysctl: files under /proc/sys, written in the container's namespaces before the mounts. */
  sysctl?: { file: string; value: string }[];
  /** OCI process.rlimits: set just before the security plan (raising a hard limit needs CAP_SYS_RESOURCE). */
  rlimits?: { resource: number; soft: number | 'unlimited'; hard: number | 'unlimited' }[];
  /** OCI process.user.additionalGids: exactly these supplementary groups (none looked up in /etc/group). */
  additionalGids?: number[];
  /** OCI process.user.umask, for the command. */
  umask?: number;
}

/** Parent -> init after the plan, only with tty: the pty the parent opened (slave /dev/pts/<index>). */
export type ParentMessage = { t: 'pty'; index: number } | { t: 'start' };

export type InitMessage =
  | { t: 'ready' }
  | { t: 'trace'; step: string; detail?: string }
  | { t: 'created' }
  | { t: 'exec'; path: string }
  | { t: 'pty-request' }
  | { t: 'error'; step: string | undefined; message: string; hint: string | undefined; exitCode: number };
