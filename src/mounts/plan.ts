/**
 * The container's mount plan: the list of mount operations the init performs inside
 * the new root, in order. Pure: the parent computes it from the run spec, the init
 * executes it (mounts/apply.ts). Flags and options follow docker's defaults so that
 * software behaves in tsbox as it does under docker or podman.
 */
import { MS } from '../sys/mount-flags.js';
import { STATIC_INIT_PATH } from './static-init.js';

/** A step of the plan. Targets are container paths ("/dev/pts"), resolved inside the root at apply time. */
export type MountStep =
  | { op: 'mount'; fstype: string; source: string; target: string; flags: number; data?: string; create: 'dir' | 'file' }
  /**
   * A recursive bind. `flags`: further per-mount MS_* flags (MS_NOSUID, MS_NODEV, MS_NOEXEC),
   * set with MS_RDONLY (readOnly) on every mount of the bind before it is attached; the
   * flags the source has (nosuid, noexec...) stay. Volumes get MS_NODEV unless --privileged.
   */
  | { op: 'bind'; source: string; target: string; readOnly: boolean; create: 'dir' | 'file'; flags?: number }
  /** owner: for --device, the host node's (root's otherwise). */
  | { op: 'mknod'; target: string; major: number; minor: number; mode: number; owner?: { uid: number; gid: number } }
  | { op: 'symlink'; target: string; linkTo: string }
  /** Hide a path: /dev/null over a file, an empty read-only tmpfs over a directory; skipped if absent. */
  | { op: 'mask'; target: string }
  /** Make an existing path read-only (bind it on itself, remount read-only); skipped if absent. */
  | { op: 'readonly'; target: string };

export interface Volume {
  /** Host path, absolute. */
  source: string;
  /** Container path, absolute. */
  target: string;
  readOnly: boolean;
  /** Whether the host source is a directory (decides what to create as the mount point). */
  sourceIsDir: boolean;
}

export interface TmpfsMount {
  target: string;
  /** Mount flags and options after parsing "--tmpfs /x:size=64m,noexec". */
  flags: number;
  data: string;
}

export interface MountPlanInput {
  /** Host paths of the generated /etc files (hostname, hosts, resolv.conf). */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  volumes: readonly Volume[];
  tmpfs: readonly TmpfsMount[];
  /** tmpfs mounts of tsbox's own (--read-only's /tmp, /var/tmp, /run): before the user's, which may go inside them. */
  baseTmpfs?: readonly TmpfsMount[];
  /** Mount a cgroup2 view at /sys/fs/cgroup (the container has its own cgroup namespace). */
  cgroup2: boolean;
  /** --privileged: /sys and the cgroup view writable, nothing masked, the host's devices. */
  privileged: boolean;
  /** With --privileged: the host's device nodes (from listHostDevices), recreated in /dev. */
  hostDevices?: readonly HostDevice[];
  /** --init: the host's static init binary (mounts/static-init.ts), bound read-only at /dev/init. */
  staticInit?: string | null;
  /** --device: nodes for these host devices in /dev (a standard node of the same name gives way). */
  devices?: readonly DeviceNode[];
}

/** A node to make for --device: its container path under /dev, type, numbers, permissions and owner. */
export interface DeviceNode {
  /** Container path, e.g. /dev/loop0. */
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Permission bits and owner of the host's node (0o660, root:kvm...), as docker copies them. */
  permissions: number;
  uid: number;
  gid: number;
}

export interface HostDevice {
  /** Name directly under /dev, e.g. "vda" or "kvm". */
  name: string;
  /** st_mode: file type bits (char or block) and permissions. */
  mode: number;
  major: number;
  minor: number;
}

/**
 * Kernel interfaces a container has no business reading (they leak host details or
 * timing side channels) or writing: docker's and podman's default lists.
 */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/sched_debug', '/proc/scsi', '/proc/timer_list', '/proc/timer_stats', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const NOSUID_NODEV_NOEXEC = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/** The character devices every container gets: docker's standard set. */
export const STANDARD_DEVICES = [
  { name: 'null', major: 1, minor: 3 },
  { name: 'zero', major: 1, minor: 5 },
  { name: 'full', major: 1, minor: 7 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'tty', major: 5, minor: 0 },
] as const;

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** Host devices a privileged container still does not get: its terminal and pty multiplexer are its own. */
const HOST_DEVICES_NOT_SHARED = new Set(['console', 'ptmx', 'tty']);

export function planMounts(input: MountPlanInput): MountStep[] {
  const steps: MountStep[] = [];

  // /proc from inside the new PID namespace: it shows only the container's processes.
  steps.push({ op: 'mount', fstype: 'proc', source: 'proc', target: '/proc', flags: NOSUID_NODEV_NOEXEC, create: 'dir' });

  // /dev is a fresh tmpfs holding only the standard nodes and --device's, never the host's
  // devices. It is the one place in the container where nodes open (not nodev): what they
  // reach is the device policy's to decide (devices/policy.ts).
  steps.push({ op: 'mount', fstype: 'tmpfs', source: 'tmpfs', target: '/dev', flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k', create: 'dir' });
  const requested = new Set((input.devices ?? []).map((d) => d.path));
  for (const dev of STANDARD_DEVICES) {
    if (requested.has(`/dev/${dev.name}`)) continue;
    steps.push({ op: 'mknod', target: `/dev/${dev.name}`, major: dev.major, minor: dev.minor, mode: S_IFCHR | 0o666 });
  }
  for (const dev of input.devices ?? []) {
    const mode = (dev.type === 'b' ? S_IFBLK : S_IFCHR) | (dev.permissions & 0o777);
    steps.push({ op: 'mknod', target: dev.path, major: dev.major, minor: dev.minor, mode, owner: { uid: dev.uid, gid: dev.gid } });
  }
  if (input.privileged) {
    // As docker does: new nodes for the host's devices in the container's own /dev, not a
    // bind of the host's /dev (that would also share its shm and let writes land in it).
    const standard = new Set<string>(STANDARD_DEVICES.map((d) => d.name));
    for (const dev of input.hostDevices ?? []) {
      if (standard.has(dev.name) || HOST_DEVICES_NOT_SHARED.has(dev.name) || requested.has(`/dev/${dev.name}`)) continue;
      steps.push({ op: 'mknod', target: `/dev/${dev.name}`, major: dev.major, minor: dev.minor, mode: dev.mode });
    }
  }
  // A devpts instance of the container's own: its ptys are not the host's.
  steps.push({ op: 'mount', fstype: 'devpts', source: 'devpts', target: '/dev/pts', flags: MS.NOSUID | MS.NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5', create: 'dir' });
  steps.push({ op: 'symlink', target: '/dev/ptmx', linkTo: 'pts/ptmx' });
  steps.push({ op: 'mount', fstype: 'tmpfs', source: 'shm', target: '/dev/shm', flags: NOSUID_NODEV_NOEXEC, data: 'mode=1777,size=65536k', create: 'dir' });
  steps.push({ op: 'mount', fstype: 'mqueue', source: 'mqueue', target: '/dev/mqueue', flags: NOSUID_NODEV_NOEXEC, create: 'dir' });
  steps.push({ op: 'symlink', target: '/dev/fd', linkTo: '/proc/self/fd' });
  steps.push({ op: 'symlink', target: '/dev/stdin', linkTo: '/proc/self/fd/0' });
  steps.push({ op: 'symlink', target: '/dev/stdout', linkTo: '/proc/self/fd/1' });
  steps.push({ op: 'symlink', target: '/dev/stderr', linkTo: '/proc/self/fd/2' });
  if (input.staticInit) {
    // Before the user's mounts, like the rest of /dev; nosuid and nodev whatever the host file is.
    steps.push({ op: 'bind', source: input.staticInit, target: STATIC_INIT_PATH, readOnly: true, create: 'file', flags: MS.NOSUID | MS.NODEV });
  }

  // /sys read-only: the container may look at the kernel's view, not change it.
  const sysRo = input.privileged ? 0 : MS.RDONLY;
  steps.push({ op: 'mount', fstype: 'sysfs', source: 'sysfs', target: '/sys', flags: NOSUID_NODEV_NOEXEC | sysRo, create: 'dir' });
  if (input.cgroup2) {
    // Mounted from inside the container's cgroup namespace, this shows its own group as the root.
    steps.push({ op: 'mount', fstype: 'cgroup2', source: 'cgroup2', target: '/sys/fs/cgroup', flags: NOSUID_NODEV_NOEXEC | sysRo, create: 'dir' });
  }
  if (!input.privileged) {
    for (const target of MASKED_PATHS) steps.push({ op: 'mask', target });
    for (const target of READONLY_PATHS) steps.push({ op: 'readonly', target });
  }

  // Identity files: bind-mounted, so the image's own /etc stays untouched in the cache.
  steps.push({ op: 'bind', source: input.etcFiles.hostname, target: '/etc/hostname', readOnly: false, create: 'file' });
  steps.push({ op: 'bind', source: input.etcFiles.hosts, target: '/etc/hosts', readOnly: false, create: 'file' });
  steps.push({ op: 'bind', source: input.etcFiles.resolvConf, target: '/etc/resolv.conf', readOnly: false, create: 'file' });

  for (const t of input.baseTmpfs ?? []) {
    steps.push({ op: 'mount', fstype: 'tmpfs', source: 'tmpfs', target: t.target, flags: t.flags, data: t.data, create: 'dir' });
  }

  // The user's mounts come last, so they can cover anything above (as with docker). nodev:
  // a node in a host directory must not open the host's device from the container.
  for (const v of input.volumes) {
    steps.push({ op: 'bind', source: v.source, target: v.target, readOnly: v.readOnly, create: v.sourceIsDir ? 'dir' : 'file', ...(input.privileged ? {} : { flags: MS.NODEV }) });
  }
  for (const t of input.tmpfs) {
    steps.push({ op: 'mount', fstype: 'tmpfs', source: 'tmpfs', target: t.target, flags: t.flags, data: t.data, create: 'dir' });
  }
  return steps;
}

/** Escape a path for overlayfs options, where ',' separates options and ':' separates lower layers. */
export function escapeOverlayPath(path: string): string {
  return path.replace(/[\\,:]/g, (c) => `\\${c}`);
}

/**
 * `volatile` (Linux 5.10+) skips the sync of the upper layer's filesystem when the overlay
 * goes away. A container's upper layer is never mounted again (runs are ephemeral, kept
 * containers are not restarted), so there is nothing to make durable; without it, the
 * teardown waits for the host filesystem's journal (about 1 ms per directory removed on
 * ext4 with discard, ~9 ms per run here).
 */
export function overlayOptions(lower: string | string[], upper: string, work: string, opts: { volatile: boolean } = { volatile: true }): string {
  // Several lowers (an image's layers, top first) are ':'-separated, each escaped.
  const lowerdir = typeof lower === 'string' ? escapeOverlayPath(lower) : lower.map(escapeOverlayPath).join(':');
  const base = `lowerdir=${lowerdir},upperdir=${escapeOverlayPath(upper)},workdir=${escapeOverlayPath(work)}`;
  return opts.volatile ? `${base},volatile` : base;
}
