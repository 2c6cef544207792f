/**
 * What --explain says about each step, as data: the step's name (as runtime/run.ts,
 * init/story.ts and init/exec-story.ts name it), a sentence or two on what happens and why,
 * and what you would observe without it, with the run's real figures. Steps of one kind
 * ("mask /proc/kcore", "mask /proc/keys", ...) share a family: explained once, at the first.
 *
 * This text is in dist/explain.cjs only (see load.ts): never loaded without --explain.
 */
import type { HostFigures } from './figures.js';
import { NETWORK_STEP_TEXTS } from './network-steps.js';
import { PULL_STEP_TEXTS } from './pull-steps.js';

/** What the renderer has learnt from the run's records when it closes a step. */
export interface Facts {
  host: HostFigures;
  /** The init's pid on the host (held before exec while --explain reads its figures). */
  initPid: number | null;
  cgroup: string | null;
  /** The group's cgroup.controllers, as the run found them; [] when none is enabled. */
  controllers: string[] | null;
  /** describeSecurityPlan's summary ("run spec" record). */
  security: SecuritySummary | null;
  /** The flags the namespaces were made with ("CLONE_NEWNS|..."), from the traced unshare. */
  cloneFlags: string | null;
  /** The host's name before the container set its own. */
  hostHostname: string;
  /** The init was spawned at start-up, before the command line was read. */
  early: boolean;
  /** tsbox network create/rm: the network's definition. */
  network?: { name: string; subnet: string; gateway: string; bridge: string } | undefined;
}

export interface SecuritySummary {
  capabilities?: { bounding?: string[]; effective?: string[] };
  noNewPrivileges?: boolean;
  seccomp?: { rules?: number; defaultAction?: string; source?: string } | null;
}

export interface StepText {
  /** The step's name, or a pattern for a family of steps. */
  match: string | RegExp;
  /** Steps of one family are explained once, at the first. */
  family?: string;
  what: string | ((f: Facts) => string);
  /** What you would see without the step; null when there is nothing to say (or no figure). */
  without?: (f: Facts) => string | null;
}

/** Capabilities the kernel knows (cap_last_cap + 1), for "all N capabilities". */
const ALL_CAPS = 41;

/** What the container shares with the host when a namespace is not made for it. */
const SHARED_WITHOUT: ReadonlyArray<readonly [string, (f: Facts) => string]> = [
  ['CLONE_NEWPID', (f) => `the container shares the host's PID namespace, sees its ${f.host.processCount() ?? ''} processes and may signal those of its user; your command is not PID 1`.replace('  ', ' ')],
  ['CLONE_NEWNET', (f) => `the container uses the host's network: its interfaces (${f.host.interfaces()?.join(', ') ?? '?'}), addresses and ports, unless it joined another namespace (setns above)`],
  ['CLONE_NEWUTS', (f) => `the container shares the host's name ("${f.hostHostname}"): its own host name is not set`],
  ['CLONE_NEWIPC', () => "the container shares the host's System V IPC objects and POSIX message queues"],
];

const has = (f: Facts, flag: string): boolean => f.cloneFlags === null || f.cloneFlags.includes(flag);

export const STEP_TEXTS: readonly StepText[] = [
  {
    match: 'create container directory',
    what: "tsbox makes the container's own directory in its state root: a lock (held while tsbox lives; a free lock tells gc this run died), resources.json (everything the container will hold, recorded before it is taken, so that a crash can be cleaned up), and the overlay's upper and work directories.",
  },
  {
    match: 'open output log',
    what: "-d or --name: the container's output goes into its log (tsbox logs), one timestamped line at a time, through pipes tsbox reads.",
  },
  {
    match: 'spawn init',
    what: (f) => 'The container\'s first process, its init, is started in new namespaces. A namespace gives a group of processes their own copy of one global resource of the kernel: the same kernel, a separate view. Node cannot fork safely, so the main thread calls unshare(), which moves only itself into new namespaces; the child it starts next is born in them (in a new PID namespace, as its PID 1), and the thread goes back home with setns() on fds it opened before. Before the child starts, node\'s own binary is bind-mounted read-only in the new mount namespace (CVE-2019-5736).'
      + (f.early ? ' This init was started at start-up, before tsbox even read its command line, so that Node\'s boot overlaps tsbox\'s own.' : ''),
    without: (f) => {
      const out: string[] = [];
      const procs = f.host.processCount();
      if (has(f, 'CLONE_NEWPID')) out.push(`without CLONE_NEWPID the container would see the host's ${procs ?? 'many'} processes (ps would list them all, and root in it could signal them); inside, your command is PID 1`);
      const ifs = f.host.interfaces();
      if (has(f, 'CLONE_NEWNET')) out.push(`without CLONE_NEWNET it would use the host's ${ifs ? `${ifs.length} network interfaces (${ifs.join(', ')})` : 'network interfaces'} and could listen on the host's ports`);
      if (has(f, 'CLONE_NEWUTS')) out.push(`without CLONE_NEWUTS, setting its host name would rename the host ("${f.hostHostname}")`);
      if (has(f, 'CLONE_NEWIPC')) out.push("without CLONE_NEWIPC it would share the host's System V shared memory, semaphores and message queues");
      if (has(f, 'CLONE_NEWNS')) out.push('without CLONE_NEWNS every mount it makes would be made on the host');
      // A namespace switched off (--network host, --pid host...): say what the container shares.
      const shared = f.cloneFlags === null ? [] : SHARED_WITHOUT.filter(([flag]) => !f.cloneFlags!.includes(flag)).map(([flag, what]) => `${flag} was not asked for: ${what(f)}`);
      return out.length || shared.length ? `${[...out, ...shared].join('; ')}.` : null;
    },
  },
  {
    match: 'create cgroup',
    what: 'A control group (cgroup v2) is made for the container. The kernel counts the CPU time, memory, I/O and processes of everything in a group, and enforces the limits written into its files (memory.max, cpu.max, pids.max); every process the container starts is born in it.',
    without: () => "without a group the container's processes would be counted with everything else, and nothing could cap them: a fork bomb or a memory leak in it would reach the whole host.",
  },
  {
    match: 'move init into cgroup',
    what: "The init's pid is written into the group's cgroup.procs: from then on it, and every process it starts, belongs to the group (a child is born in its parent's group). The move completes before the init runs any of the container's setup.",
  },
  {
    match: 'reclaim dead runs',
    what: 'tsbox looks for what runs killed with SIGKILL left behind (their container directory\'s lock is free: the holder died) and releases it: groups, overlay layers, records.',
  },
  {
    match: 'prepare rootfs',
    what: 'The root-filesystem archive is extracted once into the cache, named by its digest, and reused by every container made from it: it becomes the read-only lower layer of the container\'s overlay.',
  },
  {
    match: 'attach network',
    what: 'The container\'s network. With a bridge (the default, as docker), tsbox checks the network and its flags and opens the container\'s network namespace; the address is taken later, while the init mounts. With --network none nothing is added: the namespace keeps only its own loopback.',
  },
  {
    match: 'wire network',
    what: 'While the init mounts (the plan is already sent), tsbox takes an address on the network under its lock (a lease file, written before anything exists, so a killed tsbox leaves nothing the next command cannot reclaim), checks the bridge is up (it stays up between containers, as docker0 does), writes the address into /etc/hosts, and makes a veth pair whose container end is born inside the container\'s network namespace as eth0, gives it the address and a default route through the bridge (four netlink messages in one send, each acknowledged), and publishes -p ports as nft map elements; the command may start only after this. Each netlink message and firewall change is listed. With --network none, host or container:NAME there is nothing to wire.',
  },
  {
    match: 'write /etc files',
    what: "The container's /etc/hostname, /etc/hosts and /etc/resolv.conf are written in its directory; they are bind-mounted over the image's own later, so the image is never changed.",
  },
  {
    match: 'apply device policy',
    what: 'A small eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) is attached to the container\'s group: the kernel runs it on every open or mknod of a device node by a process of the group, and it allows only the listed devices (deny by default, as docker).',
    without: () => 'without it, a device node shipped in an image (a block device of the host\'s disk, /dev/kmsg) would open the host\'s device.',
  },
  {
    match: 'start init',
    what: 'The init says it is ready and gets its plan: mounts, host name, user, capabilities, seccomp filter, command. Its first two calls came before the plan: PR_SET_PDEATHSIG (the kernel kills it if tsbox dies) and PR_SET_DUMPABLE 0 (until execve it is the host\'s node binary, and no process of the container may read its memory or reach /proc/1/exe).',
    without: () => 'without PR_SET_PDEATHSIG a killed tsbox would leave the container running with nobody to clean up; without PR_SET_DUMPABLE 0 a process of the container could open the host\'s node binary through /proc/1/exe and overwrite it (CVE-2019-5736).',
  },
  {
    match: 'set up container',
    what: "From here the init works inside its namespaces, one step after another; each of its system calls is listed under its step. tsbox waits until it reports \"created\".",
  },
  {
    match: 'check no debugger',
    what: "The init checks that Node's inspector was not started: a SIGUSR1 that arrived before tsbox's listener would have opened a debugger port with the host's root behind it. If one runs, the setup is abandoned.",
  },
  {
    match: 'join network namespace',
    what: "With --pid container:NAME and a shared network, the init was born in a fresh network namespace (NAME's processes could see it start); now, non-dumpable and with its SIGUSR1 listener, it joins the shared one itself (setns CLONE_NEWNET).",
  },
  {
    match: 'open exec fifo',
    what: "tsbox-runtime (an engine's OCI create): no tsbox process stays to hold the container, so the init opens the fifo exec.fifo in the container's state directory now, while the host's paths are still reachable; once set up it blocks opening it for writing, and `tsbox-runtime start` releases it by opening it for reading.",
  },
  {
    match: 'set oom_score_adj',
    what: "--oom-score-adj: the container's score for the kernel's out-of-memory killer is written to /proc/self/oom_score_adj (inherited by everything it starts): from -1000 (never chosen) to 1000 (chosen first) when the host, or the container's group, runs out of memory. Written through the host's /proc, before anything of the image is on the path.",
  },
  {
    match: 'set sysctls',
    what: "--sysctl: kernel settings that belong to one of the container's own namespaces (net.* of its network namespace, kernel.shm*/msg*/sem of its IPC namespace) are written under its freshly mounted /proc/sys, before /proc/sys is made read-only. Settings of the whole host are refused: they would not be the container's.",
  },
  {
    match: 'raise hard rlimits',
    what: '--ulimit: a hard resource limit (the ceiling a process may raise its own soft limit to) that is above the inherited one needs CAP_SYS_RESOURCE, so it is raised now, while the init still holds its capabilities.',
  },
  {
    match: /^set rlimits/,
    what: "--ulimit and --umask: the resource limits (open files, processes, core size...) are set with prlimit and the file-creation mask with umask, last before the command, so the init's own Node runtime is not held to them; lowering needs no privilege.",
  },
  {
    match: 'unshare cgroup namespace',
    what: 'Now inside its group, the init makes a cgroup namespace of its own: the group becomes the root "/" of what the container sees in /proc/self/cgroup and /sys/fs/cgroup.',
    without: (f) => (f.cgroup ? `without it, /proc/self/cgroup inside would show the host's path of the group (${f.cgroup.replace(/^\/sys\/fs\/cgroup(\/unified)?/, '')}), and the container would see where it sits in the host's tree.` : null),
  },
  {
    match: 'make mounts private',
    what: 'Mount propagation is cut: whatever is mounted from now on stays in the container\'s mount namespace, and nothing the host mounts later appears in it.',
    without: () => 'without it, on a host whose / is a shared mount (systemd\'s default) the container\'s mounts would appear on the host too.',
  },
  {
    match: 'mount rootfs',
    what: 'The root filesystem is an overlay: the cached image tree is the read-only lower layer, this container\'s upper directory receives every change (a file written is copied up first), and "merged" is what the container will see as /. MS_NODEV (unless --privileged): device nodes in the image do not open.',
    without: () => 'without the overlay the container would write into the cached image tree that every container made from it shares.',
  },
  {
    match: /^mknod /,
    family: 'mknod',
    what: 'The device nodes programs expect are made in the container\'s own /dev: null, zero, full, random, urandom, tty (and --device nodes). The device policy decides whether they open.',
  },
  {
    match: /^symlink /,
    family: 'symlink',
    what: 'The usual /dev symlinks: ptmx, fd, stdin, stdout, stderr.',
  },
  {
    match: /^mask /,
    family: 'mask',
    what: 'Host information in /proc and /sys that a container has no business reading (kernel memory, key rings, timers, firmware) is covered by an empty read-only file or tmpfs. A path the kernel does not have fails with ENOENT and is skipped.',
    without: () => 'without it, /proc/keys or /proc/timer_list would show the host\'s data, and /proc/kcore the kernel\'s memory layout.',
  },
  {
    match: 'make root read-only',
    what: '--read-only: the root is remounted read-only; only tmpfs and volumes stay writable.',
  },
  {
    match: / read-only$/,
    family: 'read-only',
    what: '/proc/bus, /proc/fs, /proc/irq, /proc/sys and /proc/sysrq-trigger are made read-only: they are settings of the host\'s kernel, shared by every container.',
    without: () => 'without it, root in the container could change kernel parameters of the whole host through /proc/sys, or reboot it through /proc/sysrq-trigger.',
  },
  {
    match: /^bind /,
    family: 'bind',
    what: 'Host files and volumes are bind-mounted in: the same file, seen at a second place. /etc/hostname, /etc/hosts and /etc/resolv.conf come from the container\'s directory. Each bind is made as a detached tree (open_tree), then attached on the target opened inside the root (move_mount).',
  },
  {
    match: /^mount /,
    family: 'mount',
    what: 'The container\'s own kernel file systems are mounted inside the new root: /proc of its PID namespace (it lists only its processes), /dev as a small tmpfs, devpts for its terminals, /dev/shm, /dev/mqueue of its IPC namespace, /sys read-only, and its cgroup. Each target is first opened inside the root and mounted through /proc/self/fd/N, so that a symlink in the image cannot send a mount onto the host.',
    without: (f) => `without a /proc of its own, ps in the container would list the host's ${f.host.processCount() ?? ''} processes.`.replace('  ', ' '),
  },
  {
    match: 'pivot_root',
    what: 'pivot_root makes the overlay the root of the container\'s mount namespace; the old root, now stacked on top of it, is detached (umount2 MNT_DETACH): no path leads back to the host\'s files.',
    without: () => 'chroot alone would change only the path lookup of one process, and a process with CAP_SYS_CHROOT can climb out of a chroot; without a new root the container would see the host\'s files.',
  },
  {
    match: 'verify /proc',
    what: 'The init checks that /proc is a real procfs and not something an image put there (CVE-2019-16884).',
  },
  {
    match: 'set hostname',
    what: 'The host name of the container\'s UTS namespace is set (default: the short container id).',
    without: (f) => (has(f, 'CLONE_NEWUTS') ? `without CLONE_NEWUTS this would rename the host itself, now "${f.hostHostname}".` : null),
  },
  {
    match: 'bring up loopback',
    what: (f) => (has(f, 'CLONE_NEWNET')
      ? 'A new network namespace starts with one interface, lo, down: the init brings it up so that 127.0.0.1 works inside.'
      : 'No network namespace was made for the container: lo is the host\'s own (or that of the container it joined), already up; the call changes nothing.'),
    without: (f) => {
      if (!has(f, 'CLONE_NEWNET')) return null;
      const ifs = f.host.interfaces();
      return ifs ? `without CLONE_NEWNET the container would share the host's ${ifs.length} interfaces (${ifs.join(', ')}) and its ports.` : null;
    },
  },
  {
    match: 'attach terminal',
    what: 'With -t the container gets a pseudo-terminal of its own devpts: the init opens it as its stdin, stdout and stderr, and tsbox relays it to yours.',
  },
  {
    match: 'allocate terminal',
    what: '-t: tsbox receives the master side of the pseudo-terminal the init opened in the container\'s devpts and relays it to your terminal (size changes included).',
  },
  {
    match: 'resolve user',
    what: 'The user to run as is looked up in the container\'s /etc/passwd and /etc/group, opened inside the root and only as regular files.',
  },
  {
    match: 'set working directory',
    what: 'The working directory is resolved inside the root (created if missing) and entered through its fd.',
  },
  {
    match: 'find command',
    what: 'The command is looked up in the container\'s PATH, as a shell would (127: not found; 126: not executable).',
  },
  {
    match: 'apply security',
    what: (f) => {
      // tsbox exec logs no run spec: the filter is the container's, as its call shows.
      if (f.security === null) return 'The privileges, last, as the container\'s own: the capability bounding set is cut (PR_CAPBSET_DROP), the credentials are set (setgroups, setgid, setuid), then the capability sets (capset), and the container\'s seccomp filter is loaded (its length in BPF instructions is in the call).';
      const seccomp = f.security.seccomp;
      const filter = seccomp ? `the seccomp filter: ${seccomp.rules ?? '?'} rules compiled into a BPF program the kernel runs on every system call; a call no rule allows gets the default action, ${seccomp.defaultAction ?? '?'}` : 'no seccomp filter (unconfined)';
      const order = f.security.noNewPrivileges
        ? 'It is loaded last, after PR_SET_NO_NEW_PRIVS, so that nothing before is subject to it.'
        : 'Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which capset takes away: so it is loaded first (as runc does), and it allows the calls that follow.';
      return `The privileges, last: the capability bounding set loses what the container must never regain (PR_CAPBSET_DROP), the credentials are set (setgroups, setgid, setuid), then the capability sets (capset)${f.security.noNewPrivileges ? ', no_new_privs' : ''}, and ${filter}.${seccomp ? ` ${order}` : ''}`;
    },
    without: (f) => {
      const kept = f.security?.capabilities?.bounding?.length;
      return `without it, root in the container would be the host's root: all ${ALL_CAPS} capabilities instead of ${kept ?? 'a few'} (CAP_SYS_ADMIN mounts, CAP_SYS_MODULE loads kernel modules, CAP_NET_RAW opens raw sockets) and every system call (keyctl, bpf, kexec_load, open_by_handle_at...).`;
    },
  },
  {
    match: 'wait for start',
    what: 'The container is created: everything is set up and nothing of yours has run. Its init waits, held, until tsbox start.',
  },
  {
    match: 'start container',
    what: 'tsbox tells the init to start. It makes fds 0-2 inheritable, marks every other fd close-on-exec, resets its signal mask, and calls execve: your command replaces it, as PID 1 of the container, with its namespaces, group, root and privileges.',
  },
  {
    match: 'exec',
    what: 'The init\'s last calls before execve.',
  },
  {
    match: 'cleanup',
    what: 'When the command has ended (or a step failed), tsbox releases what the container held, newest first: the init is reaped, the network, the group (cgroup.kill, then rmdir), the overlay\'s upper layer and the container directory. The mounts went with the mount namespace when its last process ended.',
  },
  // tsbox exec (runtime/exec.ts, init/exec-story.ts)
  {
    match: 'spawn exec-init',
    what: 'tsbox exec starts a new process, the exec-init, in the running container\'s namespaces: the main thread joins its UTS, IPC, network and cgroup namespaces with setns() on /proc/PID/ns/* of the container\'s init (after a mount namespace of its own, where node is bound read-only), spawns the child, and goes back home. The mount and PID namespaces are handed to the child as fds: it joins them itself.',
    without: () => 'without setns the command would run on the host, in none of the container\'s namespaces: another process of the host, not of the container.',
  },
  {
    match: 'join cgroup',
    what: 'The exec-init is written into the container\'s cgroup.procs before it runs anything, so that its command is born in the group: the container\'s limits apply to the exec too, and its stats count it.',
  },
  {
    match: 'leave cgroup',
    what: 'Once the command runs, the exec-init itself goes back to tsbox\'s own group (the command and its children stay in the container\'s): when the container ends, its group is killed, and the exec-init must live to report the status of a command that had already ended.',
  },
  {
    match: 'start exec',
    what: 'The exec-init\'s first calls, before its plan came: PR_SET_DUMPABLE 0 (it is the host\'s node, as root: its memory and /proc entries stay out of reach) and PR_SET_PDEATHSIG (it dies with tsbox exec).',
  },
  {
    match: 'open /proc/self/fd',
    what: 'The exec-init is a new process outside the container. It keeps its own /proc/self/fd before it joins: the container\'s /proc has no entry for it.',
  },
  {
    match: 'join mount namespace',
    what: 'It joins the container\'s mount namespace with setns(CLONE_NEWNS) (after unshare(CLONE_FS): its threads share one root, which setns refuses), and so sees the container\'s root. The UTS, IPC, network and cgroup namespaces were joined before it started.',
  },
  {
    match: 'verify root',
    what: 'It checks that the root it sees is the container\'s own.',
  },
  {
    match: 'join pid namespace',
    what: 'setns(CLONE_NEWPID) changes only where its children are born: the exec-init itself stays in the host\'s PID namespace, out of the container\'s sight; the command it starts is a process of the container.',
    without: (f) => `without it the command would be one of the host's ${f.host.processCount() ?? ''} processes and could see them all.`.replace('  ', ' '),
  },
];

/** Every text: a run's steps, then those of tsbox network and tsbox pull. */
const ALL_TEXTS: readonly StepText[] = [...STEP_TEXTS, ...NETWORK_STEP_TEXTS, ...PULL_STEP_TEXTS];

/** The text of a step, by name; undefined for a step no text covers. */
export function stepText(step: string): StepText | undefined {
  return ALL_TEXTS.find((t) => (typeof t.match === 'string' ? t.match === step : t.match.test(step)));
}
