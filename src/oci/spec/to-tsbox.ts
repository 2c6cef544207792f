/**
 * Bridges from an OciContainerPlan to the shapes tsbox's current executors take, for a
 * runtime that drives them as they are: mounts/apply.ts's MountStep[] (container paths,
 * resolved in the root by fs/in-root at apply time) and cgroups' CgroupLimits. What those
 * shapes cannot say is listed in `unsupported` (one line each, naming the config.json
 * field), so that the caller refuses it or logs it, never drops it silently. Pure.
 */
import type { CgroupLimits, IoLimit } from '../../cgroups/limits.js';
import type { MountStep } from '../../mounts/plan.js';
import { MS } from '../../sys/mount-flags.js';
import { DEFAULT_DEVICE_RULES } from '../../devices/rules.js';
import type { DeviceSpec } from '../../devices/policy.js';
import type { SecurityPlan } from '../../security/plan.js';
import { CLONE } from '../../sys/process-flags.js';
import type { CgroupPathPlan } from './cgroups-path.js';
import type { OciMountStep } from './mounts.js';
import type { OciProcessPlan } from './process.js';
import type { OciContainerPlan } from './translate.js';
import type { CgroupWrite } from './resources.js';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** Propagation that changes nothing for a container's mounts: they are made in its own mount namespace, private to it. */
const HARMLESS_PROPAGATION = new Set([MS.PRIVATE, MS.PRIVATE | MS.REC]);
const BIND_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;

const abs = (inRoot: string) => `/${inRoot}`;

export interface TsboxMounts {
  /** config.mounts in order; the device nodes and /dev links right after the /dev mount (else after all mounts); then masked, then read-only paths. */
  steps: MountStep[];
  /** What the steps could not carry, e.g. "mounts[4] (/data): mount propagation other than private": refuse it, or say it. */
  unsupported: string[];
  /** Done a little differently, to log at debug: "mounts[6] (/etc/hosts): a non-recursive bind made recursive". */
  approximated: string[];
}

export interface TsboxMountOptions {
  /** The container has a cgroup namespace of its own: a cgroup2 mount then shows its group as the root. */
  cgroupNamespace: boolean;
  /**
   * The container's group on the host (absolute), or null when it has none. Without a cgroup
   * namespace, /sys/fs/cgroup becomes a bind of this directory (as runc does), or an empty
   * read-only tmpfs when there is no group: never a view of the host's whole hierarchy.
   */
  cgroupDir: string | null;
}

export function toTsboxMountSteps(plan: OciContainerPlan, opts: TsboxMountOptions): TsboxMounts {
  const steps: MountStep[] = [];
  const unsupported: string[] = [];
  const approximated: string[] = [];
  const devSteps = (): MountStep[] => {
    if (!plan.devices.create) return [];
    const nodes = plan.devices.nodes.map((n): MountStep => ({
      op: 'mknod',
      target: abs(n.target),
      major: n.major,
      minor: n.minor,
      mode: (n.type === 'b' ? S_IFBLK : n.type === 'p' ? S_IFIFO : S_IFCHR) | (n.mode & 0o7777),
      owner: { uid: n.uid, gid: n.gid },
    }));
    return [...nodes, ...plan.devices.symlinks.map((l): MountStep => ({ op: 'symlink', target: abs(l.target), linkTo: l.linkTo }))];
  };
  let devDone = false;
  for (const m of plan.mounts) {
    steps.push(toStep(m, opts, unsupported, approximated));
    if (m.target === 'dev' && !devDone) {
      steps.push(...devSteps());
      devDone = true;
    }
  }
  if (!devDone) steps.push(...devSteps());
  for (const t of plan.maskedPaths) steps.push({ op: 'mask', target: abs(t) });
  for (const t of plan.readonlyPaths) steps.push({ op: 'readonly', target: abs(t) });
  return { steps, unsupported, approximated };
}

function toStep(m: OciMountStep, opts: TsboxMountOptions, unsupported: string[], approximated: string[]): MountStep {
  const what = `${m.where} (${abs(m.target)})`;
  const odd = m.propagation.filter((p) => !HARMLESS_PROPAGATION.has(p));
  if (odd.length > 0) unsupported.push(`${what}: mount propagation other than private`);
  if (m.recursiveAttr) unsupported.push(`${what}: recursive mount attributes (rro, rnosuid...)`);
  switch (m.op) {
    case 'bind':
      // The same unless the source has mounts under it, which then show in the container too.
      if (!m.recursive) approximated.push(`${what}: a non-recursive bind made recursive`);
      if ((m.flags & ~BIND_FLAGS) !== 0) unsupported.push(`${what}: atime or sync flags on a bind`);
      return { op: 'bind', source: m.source, target: abs(m.target), readOnly: (m.flags & MS.RDONLY) !== 0, create: m.create, flags: m.flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC) };
    case 'cgroup': {
      const flags = m.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC;
      if (m.requested === 'cgroup') approximated.push(`${what}: cgroup v2 in place of the v1 hierarchies asked for`);
      if (opts.cgroupNamespace) return { op: 'mount', fstype: 'cgroup2', source: 'cgroup2', target: abs(m.target), flags, create: 'dir' };
      // Without a cgroup namespace a cgroup2 mount would show the host's whole hierarchy.
      if (opts.cgroupDir !== null) return { op: 'bind', source: opts.cgroupDir, target: abs(m.target), readOnly: (m.flags & MS.RDONLY) !== 0, create: 'dir', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC };
      approximated.push(`${what}: an empty read-only tmpfs, since the container has no cgroup`);
      return { op: 'mount', fstype: 'tmpfs', source: 'tmpfs', target: abs(m.target), flags: flags | MS.RDONLY, data: 'mode=755,size=4k', create: 'dir' };
    }
    case 'mount':
      if (m.copyUp) unsupported.push(`${what}: tmpcopyup`);
      return { op: 'mount', fstype: m.fstype, source: m.source, target: abs(m.target), flags: m.flags, ...(m.data ? { data: m.data } : {}), create: 'dir' };
  }
}

export interface TsboxLimits {
  limits: CgroupLimits;
  /** Writes CgroupLimits cannot hold, e.g. "linux.resources.cpu.mems (cpuset.mems)". */
  unsupported: string[];
}

/** The resources' writes as cgroups/limits.ts's CgroupLimits (what cgroups/manager.ts writes). */
export function toCgroupLimits(writes: readonly CgroupWrite[]): TsboxLimits {
  const limits: CgroupLimits = {};
  const unsupported: string[] = [];
  const io = new Map<string, IoLimit>();
  const num = (v: string) => Number(v);
  for (const w of writes) {
    switch (w.file) {
      case 'memory.max':
        if (w.value === 'max') continue; // a new group's default
        limits.memoryMax = num(w.value);
        continue;
      case 'memory.low':
        if (w.value === 'max') break;
        limits.memoryLow = num(w.value);
        continue;
      case 'memory.swap.max':
        limits.memorySwapMax = w.value === 'max' ? 'max' : num(w.value);
        continue;
      case 'pids.max':
        limits.pidsMax = w.value === 'max' ? 'max' : num(w.value);
        continue;
      case 'cpu.weight':
        limits.cpuWeight = num(w.value);
        continue;
      case 'cpuset.cpus':
        limits.cpusetCpus = w.value;
        continue;
      case 'cpu.max': {
        const [quota, period] = w.value.split(' ');
        if (quota === 'max') continue; // no limit: nothing to write
        limits.cpuMax = { quotaUs: num(quota!), periodUs: num(period!) };
        continue;
      }
      case 'io.max': {
        const m = /^(\d+):(\d+) (rbps|wbps)=(\d+)$/.exec(w.value);
        if (!m) break;
        const key = `${m[1]}:${m[2]}`;
        const entry = io.get(key) ?? { device: key, major: num(m[1]!), minor: num(m[2]!) };
        entry[m[3] as 'rbps' | 'wbps'] = num(m[4]!);
        io.set(key, entry);
        continue;
      }
    }
    unsupported.push(`${w.source} (${w.file} ${w.value})`);
  }
  if (io.size > 0) limits.io = [...io.values()];
  return { limits, unsupported };
}

/**
 * The namespaces as a spawner that unshares new ones and setns's into given ones takes them.
 * The cgroup namespace is apart (`cgroup`): the init makes it once it is in its group, so
 * that the group is its root. A cgroup namespace joined by path is listed in `unsupported`.
 */
export interface TsboxNamespaces {
  /** CLONE_NEW* flags to create, the cgroup namespace left out. */
  unshare: number;
  join: { path: string; flag: number; type: string }[];
  newNet: boolean;
  newUts: boolean;
  /** A new cgroup namespace, made by the init after it joined its group. */
  cgroup: boolean;
  unsupported: string[];
}

export function toTsboxNamespaces(plan: OciContainerPlan): TsboxNamespaces {
  const ns = plan.namespaces;
  const unsupported = ns.joined.filter((j) => j.type === 'cgroup').map((j) => `linux.namespaces (cgroup, ${j.path}): joining a cgroup namespace by path`);
  return {
    unshare: ns.cloneFlags & ~CLONE.NEWCGROUP,
    join: ns.joined.filter((j) => j.type !== 'cgroup').map((j) => ({ path: j.path, flag: j.nstype, type: j.type })),
    newNet: ns.created.includes('network'),
    newUts: ns.created.includes('uts'),
    cgroup: ns.created.includes('cgroup'),
    unsupported,
  };
}

/**
 * Where cgroups/manager.ts makes the group: a parent under the cgroup2 mount and a name.
 * '/a/b/c' (and systemd's mapped path) -> parent 'a/b', name 'c'; a relative 'a/b' goes under
 * `defaultParent`; none: `defaultParent`/id.
 */
export function toCgroupParentName(path: CgroupPathPlan, opts: { defaultParent: string; id: string }): { parent: string; name: string } {
  if (path.kind === 'default') return { parent: opts.defaultParent, name: opts.id };
  const parts = path.path.split('/').filter(Boolean);
  const name = parts.pop()!;
  const parent = parts.join('/');
  return { parent: path.kind === 'relative' ? [opts.defaultParent, parent].filter(Boolean).join('/') : parent, name };
}

/**
 * The device policy as devices/index.ts applyDevicePolicy takes it: that function puts
 * DEFAULT_DEVICE_RULES first itself, so only the config's own rules go in `rules`; an
 * "allow all" list is `privileged` (no program).
 */
export function toDevicePolicyTarget(plan: OciContainerPlan): { devices: DeviceSpec; privileged: boolean; security: SecurityPlan } {
  const rules = plan.devices.rules;
  const own = rules === null ? [] : rules.slice(DEFAULT_DEVICE_RULES.length);
  return { devices: { nodes: [], rules: own }, privileged: rules === null, security: plan.security };
}

/**
 * An exec's security: the capability sets and no_new_privs of its process (exec --process,
 * or the container's process with --cap flags), the container's seccomp filter (runc loads
 * the config's profile for every process it starts in the container).
 */
export function execSecurityPlan(container: Pick<OciContainerPlan, 'security'>, process: Pick<OciProcessPlan, 'capabilities' | 'noNewPrivileges'>): SecurityPlan {
  return { capabilities: process.capabilities, noNewPrivileges: process.noNewPrivileges, seccomp: container.security.seccomp };
}

/** process.user as ProcessPlan.user takes it ("uid:gid", numeric: nothing to look up in the image). */
export function toUserSpec(process: Pick<OciProcessPlan, 'user'>): string {
  return `${process.user.uid}:${process.user.gid}`;
}
