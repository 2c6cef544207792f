/**
 * linux.resources -> cgroup v2 files to write. The runtime-spec's resources are shaped
 * after cgroup v1, and that is what podman and containerd send (on this kind of host they
 * run in v1 mode), so each value is translated the way runc (opencontainers/cgroups fs2)
 * and crun do for a v2 host:
 *
 *   memory.limit          memory.max (-1: max)
 *   memory.reservation    memory.low (-1: max)
 *   memory.swap           memory.swap.max = swap - limit (v1's swap is memory+swap; -1: max)
 *   cpu.shares            cpu.weight, with cgroups/cpu.ts's sharesToWeight: the mapping current
 *                         runc and crun use (1024 -> 100). The linear 1 + (shares-2)*9999/262142
 *                         that crun used before made the default 1024 a weight of 39, below
 *                         every neighbour's 100; tsbox's --cpu-shares already uses the new one.
 *   cpu.quota/period      cpu.max "QUOTA PERIOD" (quota -1 or absent: max; period default 100000)
 *   cpu.burst / idle      cpu.max.burst / cpu.idle
 *   cpu.cpus / mems       cpuset.cpus / cpuset.mems
 *   pids.limit            pids.max (<= 0: max)
 *   blockIO.weight        io.bfq.weight (10..1000), or where BFQ is absent io.weight =
 *                         1 + (weight-10)*9999/990 (the write's `fallback`)
 *   blockIO.weightDevice  the same per device, "MAJ:MIN W"
 *   blockIO.throttle*     io.max "MAJ:MIN rbps|wbps|riops|wiops=N" (0: max)
 *   hugepageLimits        hugetlb.<size>.max
 *   rdma                  rdma.max "DEV hca_handle=N hca_object=N"
 *   unified               written as given, last, replacing a translated write of the same file
 *
 * Refused: real-time CPU time (v2 has none), net_cls/net_prio (v1 only), a unified key that
 * is not a plain file name. Ignored with a warning: the v1-only memory knobs (kernel,
 * kernelTCP, swappiness, disableOOMKiller) and leaf weights, as runc ignores them on v2.
 * Each write names its controller, so the executor can refuse clearly, before anything is
 * created, a limit this host's cgroup v2 cannot enforce (cgroups/availability.ts
 * decideCgroup with neededControllers()). Pure.
 */
import { parseCpuList, sharesToWeight } from '../../cgroups/cpu.js';
import type { Fail } from './errors.js';
import type { OciResources } from './schema.js';

export interface CgroupWrite {
  /** Interface file in the container's group, e.g. "memory.max". */
  file: string;
  value: string;
  /** The v2 controller that provides the file; null for cgroup core files (cgroup.*). */
  controller: string | null;
  /** The config.json field behind it, for messages: "linux.resources.memory.limit". */
  source: string;
  /** Write this instead when `file` does not exist (io.bfq.weight without BFQ -> io.weight). */
  fallback?: { file: string; value: string };
}

/**
 * What a new group already has: writing it at create time changes nothing, so such a write
 * is left out (and needs no controller). That is what makes the engines' "no limit" values
 * work on a host whose cgroup v2 lacks the controller: podman --pids-limit -1 sends a pids
 * limit of 0 (max), containerd a cpu period with no quota (max 100000), cpu.shares 1024 is
 * the default weight. `update` keeps them: there they undo an earlier limit.
 */
const NEW_GROUP_VALUES: Readonly<Record<string, string>> = {
  'pids.max': 'max',
  'memory.max': 'max',
  'memory.high': 'max',
  'memory.swap.max': 'max',
  'memory.low': '0',
  'memory.min': '0',
  'cpu.max': 'max 100000',
  'cpu.weight': '100',
  'cpu.idle': '0',
  'cpu.max.burst': '0',
};

function isNewGroupValue(file: string, value: string): boolean {
  if (/^hugetlb\.[^.]+\.max$/.test(file)) return value === 'max';
  return NEW_GROUP_VALUES[file] === value;
}

export interface ResourcesPlan {
  writes: CgroupWrite[];
  /** Controllers the writes need, each once, in write order. */
  controllers: string[];
  warnings: string[];
}

const CPU_PERIOD_DEFAULT = 100_000;

/** runc's ConvertBlkIOToIOWeightValue: blkio.weight 10..1000 onto io.weight 1..10000. */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

const bytesOrMax = (n: number) => (n < 0 ? 'max' : String(n));

/**
 * `forNewGroup` (default true, for create): leave out writes of a new group's own values;
 * false for `update`, where they undo an earlier limit.
 */
export function planResources(r: OciResources, fail: Fail, prefix = 'linux.resources', opts: { forNewGroup?: boolean } = {}): ResourcesPlan {
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  // The JSON path of a field: "linux.resources.memory.limit" in config.json, "memory.limit" in update's document.
  const at = (path: string) => (prefix ? `${prefix}.${path}` : path);
  const add = (file: string, value: string | number, source: string, fallback?: CgroupWrite['fallback']) =>
    writes.push({ file, value: String(value), controller: controllerOf(file), source: at(source), ...(fallback ? { fallback } : {}) });

  const cpu = r.cpu;
  if (cpu) {
    if (cpu.cpus) {
      if (!parseCpuList(cpu.cpus)) throw fail(at('cpu.cpus'), `'${cpu.cpus}' is not a CPU list like 0-3 or 0,2`);
      add('cpuset.cpus', cpu.cpus.replace(/\s+/g, ''), 'cpu.cpus');
    }
    if (cpu.mems) {
      if (!parseCpuList(cpu.mems)) throw fail(at('cpu.mems'), `'${cpu.mems}' is not a memory node list like 0-1`);
      add('cpuset.mems', cpu.mems.replace(/\s+/g, ''), 'cpu.mems');
    }
    // docker and engines use 0 for "not set".
    if (cpu.shares) add('cpu.weight', sharesToWeight(cpu.shares), 'cpu.shares');
    if (cpu.idle !== null && cpu.idle !== undefined) {
      if (cpu.idle !== 0 && cpu.idle !== 1) throw fail(at('cpu.idle'), 'must be 0 or 1');
      add('cpu.idle', cpu.idle, 'cpu.idle');
    }
    const quota = cpu.quota ?? 0;
    const period = cpu.period ?? 0;
    if (quota !== 0 || period !== 0) {
      if (quota < -1) throw fail(at('cpu.quota'), 'must be positive, or -1 for no limit');
      add('cpu.max', `${quota > 0 ? quota : 'max'} ${period || CPU_PERIOD_DEFAULT}`, quota !== 0 ? 'cpu.quota' : 'cpu.period');
    }
    if (cpu.burst !== null && cpu.burst !== undefined) add('cpu.max.burst', cpu.burst, 'cpu.burst');
    if (cpu.realtimeRuntime || cpu.realtimePeriod) {
      throw fail(at(`cpu.${cpu.realtimeRuntime ? 'realtimeRuntime' : 'realtimePeriod'}`), 'real-time CPU time cannot be given to a group in cgroup v2');
    }
  }

  const mem = r.memory;
  if (mem) {
    const limit = mem.limit ?? 0;
    if (mem.reservation) add('memory.low', bytesOrMax(mem.reservation), 'memory.reservation');
    if (limit !== 0) add('memory.max', bytesOrMax(limit), 'memory.limit');
    const swap = mem.swap ?? 0;
    if (swap !== 0) {
      // v1's memsw.limit is memory plus swap; v2 limits swap alone.
      if (swap === -1) add('memory.swap.max', 'max', 'memory.swap');
      else if (limit <= 0) throw fail(at('memory.swap'), 'a swap limit needs a memory limit: it is the total of memory and swap');
      else if (swap < limit) throw fail(at('memory.swap'), `${swap} is below memory.limit ${limit}; it is memory plus swap, so it must be at least the memory limit`);
      else add('memory.swap.max', swap - limit, 'memory.swap');
    }
    for (const k of ['kernel', 'kernelTCP', 'swappiness'] as const) {
      if (mem[k] !== null && mem[k] !== undefined) warnings.push(at(`memory.${k} is a cgroup v1 setting with no cgroup v2 equivalent: ignored`));
    }
    if (mem.disableOOMKiller) warnings.push(at('memory.disableOOMKiller is a cgroup v1 setting with no cgroup v2 equivalent: ignored'));
  }

  if (r.pids && r.pids.limit !== null && r.pids.limit !== undefined) add('pids.max', r.pids.limit > 0 ? r.pids.limit : 'max', 'pids.limit');

  const io = r.blockIO;
  if (io) {
    if (io.weight) {
      if (io.weight < 10 || io.weight > 1000) throw fail(at('blockIO.weight'), 'must be from 10 to 1000');
      add('io.bfq.weight', io.weight, 'blockIO.weight', { file: 'io.weight', value: String(blkioWeightToIoWeight(io.weight)) });
    }
    if (io.leafWeight) warnings.push(at('blockIO.leafWeight has no cgroup v2 equivalent: ignored'));
    (io.weightDevice ?? []).forEach((d, i) => {
      if (d.leafWeight) warnings.push(at(`blockIO.weightDevice[${i}].leafWeight has no cgroup v2 equivalent: ignored`));
      if (!d.weight) return;
      if (d.weight < 10 || d.weight > 1000) throw fail(at(`blockIO.weightDevice[${i}].weight`), 'must be from 10 to 1000');
      add('io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, `blockIO.weightDevice[${i}]`, { file: 'io.weight', value: `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}` });
    });
    const throttles = [
      ['throttleReadBpsDevice', 'rbps'],
      ['throttleWriteBpsDevice', 'wbps'],
      ['throttleReadIOPSDevice', 'riops'],
      ['throttleWriteIOPSDevice', 'wiops'],
    ] as const;
    for (const [field, key] of throttles) {
      (io[field] ?? []).forEach((d, i) => add('io.max', `${d.major}:${d.minor} ${key}=${d.rate === 0 ? 'max' : d.rate}`, `blockIO.${field}[${i}]`));
    }
  }

  (r.hugepageLimits ?? []).forEach((h, i) => {
    if (!/^\d+[KMGT]B$/.test(h.pageSize)) throw fail(at(`hugepageLimits[${i}].pageSize`), `'${h.pageSize}' is not a page size like 2MB or 1GB`);
    add(`hugetlb.${h.pageSize}.max`, h.limit, `hugepageLimits[${i}]`);
  });

  for (const [device, limit] of Object.entries(r.rdma ?? {})) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(device)) throw fail(at('rdma'), `'${device}' is not an RDMA device name`);
    const parts = [limit.hcaHandles != null ? `hca_handle=${limit.hcaHandles}` : '', limit.hcaObjects != null ? `hca_object=${limit.hcaObjects}` : ''].filter(Boolean);
    if (parts.length > 0) add('rdma.max', `${device} ${parts.join(' ')}`, `rdma.${device}`);
  }

  if (r.network && (r.network.classID || (r.network.priorities?.length ?? 0) > 0)) {
    throw fail(at('network'), 'net_cls and net_prio are cgroup v1 controllers; cgroup v2 has no equivalent, and tsbox never writes cgroup v1');
  }

  for (const [file, value] of Object.entries(r.unified ?? {})) {
    const where = at(`unified.${file}`);
    if (!/^[a-z0-9_]+\.[a-z0-9_.]+$/.test(file) || file.includes('..')) throw fail(where, `'${file}' is not a cgroup interface file name (controller.file, no '/' or '..')`);
    if (file === 'cgroup.procs' || file === 'cgroup.threads' || file === 'cgroup.subtree_control') throw fail(where, `${file} is the runtime's to manage, not a resource`);
    // The unified map is the most specific request: it wins over a translated value (as in runc and crun).
    for (let i = writes.length - 1; i >= 0; i--) if (writes[i]!.file === file && file !== 'io.max') writes.splice(i, 1);
    add(file, value, `unified.${file}`);
  }

  if (opts.forNewGroup ?? true) {
    for (let i = writes.length - 1; i >= 0; i--) if (isNewGroupValue(writes[i]!.file, writes[i]!.value)) writes.splice(i, 1);
  }
  return { writes, controllers: [...new Set(writes.map((w) => w.controller).filter((c): c is string => c !== null))], warnings };
}

/** "memory.swap.max" -> "memory"; "cgroup.freeze" -> null (core files need no controller). */
export function controllerOf(file: string): string | null {
  const controller = file.slice(0, file.indexOf('.'));
  return controller === 'cgroup' ? null : controller;
}

/** For cgroups/availability.ts decideCgroup: each controller and the config fields that need it. */
export function neededControllers(writes: readonly CgroupWrite[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const w of writes) {
    if (w.controller === null) continue;
    const list = out.get(w.controller) ?? [];
    if (!list.includes(w.source)) list.push(w.source);
    out.set(w.controller, list);
  }
  return out;
}
