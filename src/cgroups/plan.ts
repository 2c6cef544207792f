/**
 * Parsed limits -> the cgroup files to write, in order, each with the controller it needs
 * and the flag that asked for it (so a refusal can name the flag). Pure.
 */
import type { CgroupLimits } from './limits.js';

export interface CgroupFileWrite {
  /** Interface file inside the container's group, e.g. "memory.max". */
  file: string;
  value: string;
  /** cgroup v2 controller that provides the file. */
  controller: string;
  /** The docker flag behind it, e.g. "--memory". */
  flag: string;
}

/**
 * The order is fixed so runs are reproducible and logs comparable: cpuset first (it decides
 * where the rest runs), then cpu, memory, pids, io. No file depends on another in cgroup v2.
 */
export function planCgroupFiles(limits: CgroupLimits): CgroupFileWrite[] {
  const plan: CgroupFileWrite[] = [];
  const add = (file: string, value: string | number, controller: string, flag: string) => plan.push({ file, value: String(value), controller, flag });

  if (limits.cpusetCpus !== undefined) add('cpuset.cpus', limits.cpusetCpus, 'cpuset', '--cpuset-cpus');
  if (limits.cpuWeight !== undefined) add('cpu.weight', limits.cpuWeight, 'cpu', '--cpu-weight/--cpu-shares');
  if (limits.cpuMax !== undefined) add('cpu.max', `${limits.cpuMax.quotaUs} ${limits.cpuMax.periodUs}`, 'cpu', '--cpus');
  if (limits.memoryLow !== undefined) add('memory.low', limits.memoryLow, 'memory', '--memory-reservation');
  if (limits.memoryMax !== undefined) add('memory.max', limits.memoryMax, 'memory', '--memory');
  if (limits.memorySwapMax !== undefined) add('memory.swap.max', limits.memorySwapMax, 'memory', '--memory-swap');
  if (limits.pidsMax !== undefined) add('pids.max', limits.pidsMax, 'pids', '--pids-limit');
  for (const dev of limits.io ?? []) {
    // One write per device: io.max takes "MAJ:MIN key=value..." and keeps other devices' lines.
    const keys = [dev.rbps !== undefined ? `rbps=${dev.rbps}` : '', dev.wbps !== undefined ? `wbps=${dev.wbps}` : ''].filter(Boolean).join(' ');
    const flag = [dev.rbps !== undefined ? '--device-read-bps' : '', dev.wbps !== undefined ? '--device-write-bps' : ''].filter(Boolean).join('/');
    add('io.max', `${dev.major}:${dev.minor} ${keys}`, 'io', flag);
  }
  return plan;
}

/** The controllers the limits need, each once, in plan order. */
export function requiredControllers(limits: CgroupLimits): string[] {
  return [...new Set(planCgroupFiles(limits).map((w) => w.controller))];
}

/** The flags that need each controller, for messages: { memory: ['--memory', '--memory-swap'] }. */
export function flagsByController(limits: CgroupLimits): Map<string, string[]> {
  const byController = new Map<string, string[]>();
  for (const w of planCgroupFiles(limits)) {
    const flags = byController.get(w.controller) ?? [];
    for (const f of w.flag.split('/')) if (!flags.includes(f)) flags.push(f);
    byController.set(w.controller, flags);
  }
  return byController;
}
