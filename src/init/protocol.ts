/**
 * What the parent and the container's init say to each other over the sync socket
 * (fd 3 in the init). One JSON object per line.
 *
 *   init fds: 0-2 stdio, 3 sync socket, 4 the late network namespace (plan.lateNetns), then the
 *   fds tsbox-runtime --preserve-fds passes on (plan.preserveFds; the command's 3...)
 *
 *   init   -> parent  {t:"ready"}          the init is alive and will die with the parent (PDEATHSIG set)
 *   parent -> init    the InitPlan          everything the init needs; nothing else is read after it
 *   init   -> parent  {t:"trace",...}      --debug only: each setup step and syscall
 *   init   -> parent  {t:"pty-request"}    -t only, once /dev/pts is mounted; the parent answers {t:"pty",index}
 *   init   -> parent  {t:"hook-point"}     plan.hooks.runtimePoint only: mounts done, before pivot_root; the
 *                                          parent runs prestart and createRuntime, then answers {t:"resume"}
 *   init   -> parent  {t:"created"}        every setup step is done, security applied: the container is
 *                                          created (OCI), and the init blocks reading the socket
 *   parent -> init    {t:"start"}          exec the command now (a closed socket instead: die, nothing ran)
 *   init   -> parent  {t:"exec"}           the last message before execve; then the socket closes
 *                                          (close-on-exec), which tells the parent exec succeeded
 *   init   -> parent  {t:"error",...}      a setup step failed; the init exits after sending it
 */
import type { MountStep } from '../mounts/plan.js';
import type { SecurityPlan } from '../security/index.js';
import type { HookCommand } from '../oci/spec/hooks.js';

/** The fd number of the sync socket in the init (stdio index 3 of the spawned child). */
export const SYNC_FD = 3;
/** With plan.lateNetns: the network namespace the init joins itself (namespaces/init-placement.ts). */
export const LATE_NETNS_FD = 4;

/**
 * One resource limit (setrlimit): `resource` is the kernel's RLIMIT_* number (sys/rlimit-flags.ts),
 * values in the resource's own unit (bytes, seconds, count), or 'unlimited' (RLIM_INFINITY).
 * Values above 2^53 are not representable: give 'unlimited'.
 */
export interface RlimitPlan {
  resource: number;
  soft: number | 'unlimited';
  hard: number | 'unlimited';
}

/** One sysctl, written to /proc/sys/<name with dots as slashes> in the container's namespaces. */
export interface SysctlPlan {
  name: string;
  value: string;
}

/** The command to become, as the parent decided it; shared by the container's init and exec's. */
export interface ProcessPlan {
  args: string[];
  env: string[];
  cwd: string;
  /** As given to -u: "1000", "1000:1000", "name", "name:group"; resolved inside the container. */
  user: string | null;
  // Process settings (init/process-settings.ts). Each absent field leaves the process as it
  // inherited it from tsbox (docker's "the daemon's") and is what an older plan means.
  /**
   * Hard limits raised before security (CAP_SYS_RESOURCE), every limit set last before exec
   * (the exec-init: `as` and `data` on the command once spawned); later entries win.
   */
  rlimits?: RlimitPlan[];
  /** Supplementary groups added to the user's own (docker's --group-add N, OCI user.additionalGids). */
  additionalGids?: number[];
  /** Supplementary groups by name, looked up in the container's /etc/group (--group-add NAME). */
  additionalGroupNames?: string[];
  /** OCI user.additionalGids: exactly these supplementary groups, none looked up in /etc/group (as runc). */
  exactGroups?: boolean;
  /** The umask the command starts with (0..0o777); podman's default is 0o022. */
  umask?: number;
  /** -1000..1000, written to /proc/self/oom_score_adj before anything of the container's is mounted. */
  oomScoreAdj?: number;
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
    /** An image's layers stacked instead (top first) and how to hand them to the kernel (image/run-layers.ts). */
    lowers?: { api: 'fsconfig' | 'mount'; dirs: string[] } | null;
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
   * The host's UTS namespace (--uts host): the hostname is not set (it would rename the host);
   * the host's cgroup namespace (--cgroupns host): none is unshared. Absent: both the container's own.
   */
  shared?: { uts: boolean; cgroupns: boolean };
  /**
   * The init was born in a fresh network namespace and joins its real one (fd LATE_NETNS_FD)
   * itself, once it is non-dumpable with its SIGUSR1 listener: --pid container:NAME with
   * --network host or container:, where NAME's processes see the init start (init-placement.ts).
   */
  lateNetns?: boolean;
  /**
   * Namespaced sysctls (spec/sysctl.ts decides which), written right after the container's
   * /proc is mounted, before its /proc/sys is made read-only and before security is applied.
   */
  sysctl?: SysctlPlan[];
  /**
   * tsbox-runtime (OCI create): no parent holds us. The init outlives the create command (no
   * PDEATHSIG), is held after {t:"created"} by opening this fifo for writing (init/hold-fifo.ts)
   * until `start` opens it for reading, then execs without another word on the socket.
   */
  hold?: { fifo: string };
  /**
   * tsbox-runtime: config.json's hooks that run in the container (oci/spec/hooks.ts), each
   * phase with the state JSON its hooks read on stdin; runtimePoint: stop after the mounts
   * for the runtime's prestart/createRuntime hooks ({t:"hook-point"}, until {t:"resume"}).
   */
  hooks?: ContainerHooksPlan;
  /** false: the network namespace is not ours (joined, or the host's): leave its loopback alone. */
  loopback?: boolean;
  /**
   * tsbox-runtime --preserve-fds N: the init got N more fds right after the ones it is passed
   * (preservedFdsFrom); the command gets them as fds 3..3+N-1 (init/preserved-fds.ts).
   */
  preserveFds?: number;
}

export interface ContainerHooksPlan {
  runtimePoint: boolean;
  createContainer: HookCommand[];
  startContainer: HookCommand[];
  stdin: { createContainer: string; startContainer: string };
}

/** Parent -> init after the plan, only with tty: the pty the parent opened (slave /dev/pts/<index>). */
export type ParentMessage = { t: 'pty'; index: number } | { t: 'start' } | { t: 'resume' };

export type InitMessage =
  | { t: 'ready' }
  | { t: 'trace'; step: string; detail?: string }
  | { t: 'created' }
  | { t: 'hook-point' }
  | { t: 'exec'; path: string }
  | { t: 'pty-request' }
  | { t: 'error'; step: string | undefined; message: string; hint: string | undefined; exitCode: number };
