/**
 * tsbox's default seccomp profile for x86_64: an allow-list, in effect the same as docker's
 * default, reviewed against the syscalls of Linux 6.18. Anything not listed fails with EPERM.
 *
 * What stays denied for every container, and why (the kernel alone would allow some of
 * these to root in a user namespace, or they are attack surface few programs need):
 *   keyctl, add_key, request_key (the keyring is not namespaced), bpf, perf_event_open,
 *   userfaultfd and io_uring_* (favourite exploit primitives), kexec_*, *_module, reboot,
 *   swapon/swapoff, acct, quotactl, lookup_dcookie, kcmp, pidfd_getfd, process_madvise,
 *   mount and the new mount API, umount2, unshare, setns, pivot_root, open_by_handle_at,
 *   lsm_*, uselib, ustat, sysfs, _sysctl, vm86-era leftovers, socket(AF_VSOCK),
 *   personality() other than the harmless values, clone() with CLONE_NEW*.
 * Several of these are allowed again when the container holds the capability that guards
 * them in the kernel anyway (see BY_CAPABILITY), as docker does; chroot is allowed only
 * with CAP_SYS_CHROOT (in the default set).
 *
 * Checked against docker's profile as of its Linux 6.13 update (moby#50077, moby#50097):
 *   - as docker: statmount and listmount (what /proc/self/mountinfo already shows, for the
 *     container's own mount namespace), uretprobe (the kernel kills any caller that is not
 *     its uprobe trampoline), mseal, *xattrat and the futex2 calls are allowed; lsm_* only
 *     with CAP_SYS_ADMIN;
 *   - calls docker's profile does not name and that are newer than every call it names
 *     (file_getattr, file_setattr, listns) answer ENOSYS, which is what they get under
 *     docker (runc answers ENOSYS past the newest call of a profile): programs then fall
 *     back to the older interface (the FS_IOC_FSGETXATTR ioctl, /proc) as on an old kernel;
 *   - differences kept on purpose: io_uring_* are denied (docker allowed them until 2023);
 *     pivot_root and open_tree_attr are allowed with CAP_SYS_ADMIN (docker's profile does
 *     not name them; with that capability the container may mount anyway); fchmodat2,
 *     cachestat and map_shadow_stack are allowed, as new forms of allowed calls;
 *   - ptrace, process_vm_readv/writev are allowed as docker does on kernels >= 4.8, where
 *     seccomp is re-checked after a tracer changes the syscall; without CAP_SYS_PTRACE the
 *     kernel lets a process trace only its own user's processes in the container.
 */
import { x86_64SyscallNumber } from './syscalls-x86_64.js';
import { ERRNO, type ArgCondition, type SeccompAction, type SeccompProfile, type SeccompRule } from './seccomp-profile.js';

/** The newest syscall this profile was reviewed against (listns, Linux 6.18); newer ones get ENOSYS. */
export const DEFAULT_PROFILE_REVIEWED_UP_TO = 470;

const ALWAYS: Record<string, readonly string[]> = {
  files: [
    'access', 'chdir', 'chmod', 'chown', 'close', 'close_range', 'copy_file_range', 'creat', 'dup', 'dup2',
    'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fallocate', 'fanotify_mark', 'fchdir', 'fchmod',
    'fchmodat', 'fchmodat2', 'fchown', 'fchownat', 'fcntl', 'fdatasync', 'flock', 'fstat', 'fstatfs',
    'fsync', 'ftruncate', 'futimesat', 'getcwd', 'getdents', 'getdents64', 'ioctl', 'lchown', 'link',
    'linkat', 'lseek', 'lstat', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'name_to_handle_at', 'newfstatat',
    'open', 'openat', 'openat2', 'pipe', 'pipe2', 'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev', 'pwritev2', 'read',
    'readahead', 'readlink', 'readlinkat', 'readv', 'rename', 'renameat', 'renameat2', 'rmdir', 'sendfile',
    'splice', 'stat', 'statfs', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'tee',
    'truncate', 'umask', 'unlink', 'unlinkat', 'utime', 'utimensat', 'utimes', 'vmsplice', 'write', 'writev',
    'cachestat', 'statmount', 'listmount',
    'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch',
  ],
  xattrs: [
    'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'listxattr',
    'llistxattr', 'lremovexattr', 'lsetxattr', 'removexattr', 'setxattr',
    'getxattrat', 'listxattrat', 'removexattrat', 'setxattrat',
  ],
  asyncIo: ['io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_setup', 'io_submit'],
  waiting: [
    'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2',
    'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'poll', 'ppoll', 'pselect6', 'select',
    'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_gettime', 'timerfd_settime',
    'futex', 'futex_waitv', 'futex_wake', 'futex_wait', 'futex_requeue',
  ],
  memory: [
    // getrandom: docker allows it; without it glibc programs and OpenSSL (node) abort at start.
    'getrandom',
    'brk', 'madvise', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mlock', 'mlock2',
    'mlockall', 'mmap', 'mprotect', 'mremap', 'msync', 'munlock', 'munlockall', 'munmap', 'pkey_alloc',
    'pkey_free', 'pkey_mprotect', 'remap_file_pages', 'map_shadow_stack', 'mseal',
  ],
  processes: [
    'arch_prctl', 'modify_ldt', 'capget', 'capset', 'execve', 'execveat', 'exit', 'exit_group', 'fork', 'vfork',
    'get_robust_list', 'set_robust_list', 'get_thread_area', 'set_thread_area', 'set_tid_address', 'getcpu',
    'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority', 'setpriority', 'getsid', 'setsid', 'setpgid',
    'gettid', 'getrlimit', 'setrlimit', 'prlimit64', 'getrusage', 'ioprio_get', 'ioprio_set', 'kill', 'tkill',
    'tgkill', 'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'prctl', 'rseq', 'restart_syscall',
    'wait4', 'waitid', 'seccomp', 'uretprobe', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self',
    'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max',
    'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval', 'sched_setaffinity',
    'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield',
  ],
  identity: [
    'getegid', 'geteuid', 'getgid', 'getgroups', 'getresgid', 'getresuid', 'getuid', 'setfsgid', 'setfsuid',
    'setgid', 'setgroups', 'setregid', 'setresgid', 'setresuid', 'setreuid', 'setuid',
  ],
  signals: [
    'alarm', 'pause', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn',
    'rt_sigsuspend', 'rt_sigtimedwait', 'rt_tgsigqueueinfo', 'sigaltstack',
  ],
  time: [
    'adjtimex', 'clock_adjtime', 'clock_getres', 'clock_gettime', 'clock_nanosleep', 'getitimer', 'setitimer',
    'gettimeofday', 'nanosleep', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime',
    'timer_settime', 'times',
  ],
  ipc: [
    'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedsend', 'mq_unlink', 'msgctl',
    'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop', 'semtimedop', 'shmat', 'shmctl', 'shmdt', 'shmget',
  ],
  network: [
    'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recvfrom',
    'recvmmsg', 'recvmsg', 'sendmmsg', 'sendmsg', 'sendto', 'setsockopt', 'shutdown', 'socketpair',
  ],
  system: ['sysinfo', 'uname'],
};

/** Newer than every call docker's profile names: ENOSYS, the answer they get under docker. */
const UNKNOWN_TO_DOCKER = ['file_getattr', 'file_setattr', 'listns'];

/** Allowed on kernels that re-run seccomp after a tracer rewrites the call (4.8+). */
const TRACING = ['ptrace', 'process_vm_readv', 'process_vm_writev'];

/** Allowed only when the container holds the capability the kernel checks for them. */
const BY_CAPABILITY: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['CAP_SYS_ADMIN', [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'mount', 'mount_setattr', 'move_mount', 'open_tree', 'open_tree_attr', 'perf_event_open', 'quotactl',
    'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount2', 'unshare',
    'lsm_get_self_attr', 'lsm_set_self_attr', 'lsm_list_modules',
    // Not in docker's list at all; with CAP_SYS_ADMIN the container may mount anyway.
    'pivot_root',
  ]],
  ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
  ['CAP_SYS_BOOT', ['reboot']],
  ['CAP_SYS_CHROOT', ['chroot']],
  ['CAP_SYS_MODULE', ['delete_module', 'init_module', 'finit_module']],
  ['CAP_SYS_PACCT', ['acct']],
  ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise', ...TRACING]],
  ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
  ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']],
  ['CAP_SYS_TTY_CONFIG', ['vhangup']],
  ['CAP_SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']],
  ['CAP_SYSLOG', ['syslog']],
  ['CAP_BPF', ['bpf']],
  ['CAP_PERFMON', ['perf_event_open']],
];

/** personality(2) values that change nothing dangerous: Linux, 32-bit uname, 2.6-style uname, both, and the query. */
const SAFE_PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
const CLONE_NEW_MASK = 0x7e020000n;
const AF_VSOCK = 40n;

export interface KernelVersion {
  major: number;
  minor: number;
  patch?: number;
}

/**
 * The default profile for a container whose bounding set is `caps` ("CAP_SYS_ADMIN"...),
 * on a kernel of version `kernel`.
 */
export function defaultSeccompProfile(caps: ReadonlySet<string>, kernel: KernelVersion): SeccompProfile {
  const allow: SeccompAction = { kind: 'allow' };
  const rules: SeccompRule[] = [];
  const add = (name: string, action: SeccompAction, when: ArgCondition[] = []) => rules.push({ syscall: name, nr: syscallNumber(name), action, when });

  for (const names of Object.values(ALWAYS)) for (const name of names) add(name, allow);
  if (kernel.major > 4 || (kernel.major === 4 && kernel.minor >= 8)) for (const name of TRACING) add(name, allow);
  for (const [cap, names] of BY_CAPABILITY) if (caps.has(cap)) for (const name of names) add(name, allow);

  for (const name of UNKNOWN_TO_DOCKER) add(name, { kind: 'errno', errno: ERRNO.ENOSYS });

  for (const value of SAFE_PERSONALITIES) add('personality', allow, [{ arg: 0, op: 'eq', value: BigInt(value) }]);
  add('socket', allow, [{ arg: 0, op: 'ne', value: AF_VSOCK }]);
  if (!caps.has('CAP_SYS_ADMIN')) {
    // Threads and fork()s, not new namespaces. clone3 passes its flags in memory, where a
    // filter cannot look: answer ENOSYS so that libc falls back to clone.
    add('clone', allow, [{ arg: 0, op: 'masked-eq', mask: CLONE_NEW_MASK, value: 0n }]);
    add('clone3', { kind: 'errno', errno: ERRNO.ENOSYS });
  }

  return { defaultAction: { kind: 'errno', errno: ERRNO.EPERM }, rules, knownUpTo: DEFAULT_PROFILE_REVIEWED_UP_TO, flags: 0 };
}

function syscallNumber(name: string): number {
  const nr = x86_64SyscallNumber(name);
  if (nr === undefined) throw new Error(`internal: default seccomp profile names unknown syscall ${name}`);
  return nr;
}
