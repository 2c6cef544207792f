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
import type { OciMountStep } from './mounts.js';
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
  /** What the steps could not carry, e.g. "mounts[4] (/data): non-recursive bind made recursive". */
  unsupported: string[];
}

export function toTsboxMountSteps(plan: OciContainerPlan, opts: { cgroupNamespace: boolean }): TsboxMounts {
  const steps: MountStep[] = [];
  const unsupported: string[] = [];
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
    steps.push(toStep(m, opts, unsupported));
    if (m.target === 'dev' && !devDone) {
      steps.push(...devSteps());
      devDone = true;
    }
  }
  if (!devDone) steps.push(...devSteps());
  for (const t of plan.maskedPaths) steps.push({ op: 'mask', target: abs(t) });
  for (const t of plan.readonlyPaths) steps.push({ op: 'readonly', target: abs(t) });
  return { steps, unsupported };
}

function toStep(m: OciMountStep, opts: { cgroupNamespace: boolean }, unsupported: string[]): MountStep {
  const what = `${m.where} (${abs(m.target)})`;
  const odd = m.propagation.filter((p) => !HARMLESS_PROPAGATION.has(p));
  if (odd.length > 0) unsupported.push(`${what}: mount propagation other than private`);
  if (m.recursiveAttr) unsupported.push(`${what}: recursive mount attributes (rro, rnosuid...)`);
  switch (m.op) {
    case 'bind':
      if (!m.recursive) unsupported.push(`${what}: a non-recursive bind (made recursive)`);
      if ((m.flags & ~BIND_FLAGS) !== 0) unsupported.push(`${what}: atime or sync flags on a bind`);
      return { op: 'bind', source: m.source, target: abs(m.target), readOnly: (m.flags & MS.RDONLY) !== 0, create: m.create, flags: m.flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC) };
    case 'cgroup':
      // Without a cgroup namespace a cgroup2 mount would show the host's whole hierarchy.
      if (!opts.cgroupNamespace) unsupported.push(`${what}: a cgroup mount without a cgroup namespace (it would show the host's hierarchy)`);
      return { op: 'mount', fstype: 'cgroup2', source: 'cgroup2', target: abs(m.target), flags: m.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC, create: 'dir' };
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
