/**
 * Docker's resource flags (raw CLI strings) checked and turned into cgroup v2 limits.
 * Every check runs before anything is created, and each failure is one UsageError line that
 * names the flag, the value and what was expected. Pure, apart from the two host facts it
 * is given (block devices, CPU count), which tests replace.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import { CPU_MIN_QUOTA_US, CPU_PERIOD_US, cpusToQuotaUs, parseCpuList, sharesToWeight, SHARES_MAX, SHARES_MIN, WEIGHT_MAX, WEIGHT_MIN } from './cpu.js';
import { parseSizeBytes } from './size.js';

/** The flags as typed, e.g. { memory: '512m', cpus: '1.5', deviceReadBps: ['/dev/sda:1mb'] }. */
export interface CgroupLimitFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuWeight?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
}

/** One block device's throttle: io.max "MAJ:MIN rbps=N wbps=N". */
export interface IoLimit {
  /** The path the user named, for messages. */
  device: string;
  major: number;
  minor: number;
  rbps?: number;
  wbps?: number;
}

/**
 * Parsed limits in cgroup v2 terms (JSON-serialisable). Absent means "leave the kernel's
 * default", which for every one of these is unlimited.
 */
export interface CgroupLimits {
  /** memory.max, bytes. */
  memoryMax?: number;
  /** memory.swap.max, bytes of swap alone (docker's --memory-swap minus --memory), or unlimited. */
  memorySwapMax?: number | 'max';
  /** memory.low, bytes. */
  memoryLow?: number;
  /** cpu.max. */
  cpuMax?: { quotaUs: number; periodUs: number };
  /** cpu.weight, 1..10000. */
  cpuWeight?: number;
  /** cpuset.cpus, normalised list. */
  cpusetCpus?: string;
  /** pids.max. */
  pidsMax?: number | 'max';
  /** io.max, one entry per device. */
  io?: IoLimit[];
}

export interface BlockDeviceInfo {
  isBlockDevice: boolean;
  major: number;
  minor: number;
  /** A partition rather than a whole disk: the kernel throttles whole disks only. */
  isPartition: boolean;
}

/** The host facts parsing needs; tests pass doubles. */
export interface LimitEnv {
  /** Throws (ENOENT...) when the path does not exist. */
  statDevice(path: string): BlockDeviceInfo;
  cpuCount(): number;
  /** The CPUs that are online, as /sys/devices/system/cpu/online lists them ("0-3"). */
  onlineCpus(): string;
}

/** Docker refuses less: below this a container cannot even start its runtime. */
export const MEMORY_MIN_BYTES = 6 * 1024 * 1024;

export const hostLimitEnv: LimitEnv = {
  statDevice(path) {
    const st = statSync(path, { bigint: true });
    // dev_t as glibc encodes it: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31.
    const major = Number(((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn));
    const minor = Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & ~0xffn));
    return { isBlockDevice: st.isBlockDevice(), major, minor, isPartition: existsSync(`/sys/dev/block/${major}:${minor}/partition`) };
  },
  cpuCount: () => availableParallelism(),
  onlineCpus: () => readFileSync('/sys/devices/system/cpu/online', 'utf8').trim(),
};

function invalid(flag: string, value: string, expected: string): UsageError {
  return new UsageError(`invalid ${flag} value '${value}': ${expected}`);
}

function size(flag: string, value: string): number {
  const bytes = parseSizeBytes(value);
  if (bytes === null) throw invalid(flag, value, 'expected a size like 512m or 1g');
  return bytes;
}

function integer(flag: string, value: string, expected: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw invalid(flag, value, expected);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw invalid(flag, value, expected);
  return n;
}

export function parseCgroupLimits(flags: CgroupLimitFlags, env: LimitEnv = hostLimitEnv): CgroupLimits {
  const limits: CgroupLimits = {};

  if (flags.memory !== undefined) {
    limits.memoryMax = size('--memory', flags.memory);
    if (limits.memoryMax < MEMORY_MIN_BYTES) throw invalid('--memory', flags.memory, 'the minimum memory limit is 6m');
  }

  // Docker's --memory-swap is memory plus swap; cgroup v2 limits swap alone. 0 means "not set".
  const swap = flags.memorySwap?.trim();
  if (swap !== undefined && swap !== '0') {
    if (limits.memoryMax === undefined) throw new UsageError(`--memory-swap '${swap}' needs --memory: it is the total of memory and swap`);
    if (swap === '-1') {
      limits.memorySwapMax = 'max';
    } else {
      const total = size('--memory-swap', swap);
      if (total < limits.memoryMax) throw invalid('--memory-swap', swap, `it is memory plus swap, so it must be at least --memory (${flags.memory}), or -1 for unlimited swap`);
      limits.memorySwapMax = total - limits.memoryMax;
    }
  }

  if (flags.memoryReservation !== undefined) {
    limits.memoryLow = size('--memory-reservation', flags.memoryReservation);
    if (limits.memoryMax !== undefined && limits.memoryLow > limits.memoryMax) {
      throw invalid('--memory-reservation', flags.memoryReservation, `the reservation must not exceed --memory (${flags.memory})`);
    }
  }

  if (flags.cpus !== undefined) {
    const quotaUs = cpusToQuotaUs(flags.cpus);
    const cpuCount = env.cpuCount();
    if (quotaUs === null || quotaUs < CPU_MIN_QUOTA_US) throw invalid('--cpus', flags.cpus, `expected a number of CPUs from 0.01 to ${cpuCount}, like 1.5`);
    if (quotaUs > cpuCount * CPU_PERIOD_US) throw invalid('--cpus', flags.cpus, `this host has only ${cpuCount} CPUs`);
    limits.cpuMax = { quotaUs, periodUs: CPU_PERIOD_US };
  }

  if (flags.cpuWeight !== undefined && flags.cpuShares !== undefined) {
    throw new UsageError('--cpu-weight and --cpu-shares both set the CPU weight: use one of them');
  }
  if (flags.cpuWeight !== undefined) {
    const expected = `expected an integer from ${WEIGHT_MIN} to ${WEIGHT_MAX}`;
    const weight = integer('--cpu-weight', flags.cpuWeight, expected);
    if (weight < WEIGHT_MIN || weight > WEIGHT_MAX) throw invalid('--cpu-weight', flags.cpuWeight, expected);
    limits.cpuWeight = weight;
  }
  if (flags.cpuShares !== undefined) {
    const expected = `expected an integer from ${SHARES_MIN} to ${SHARES_MAX} (1024 is the default weight)`;
    const shares = integer('--cpu-shares', flags.cpuShares, expected);
    if (shares < SHARES_MIN || shares > SHARES_MAX) throw invalid('--cpu-shares', flags.cpuShares, expected);
    limits.cpuWeight = sharesToWeight(shares);
  }

  if (flags.cpusetCpus !== undefined) {
    const parsed = parseCpuList(flags.cpusetCpus);
    if (!parsed) throw invalid('--cpuset-cpus', flags.cpusetCpus, 'expected a CPU list like 0-3 or 0,2,4-5');
    const online = env.onlineCpus();
    const onlineSet = new Set(parseCpuList(online)?.cpus ?? []);
    const offline = parsed.cpus.filter((cpu) => !onlineSet.has(cpu));
    if (offline.length > 0) throw invalid('--cpuset-cpus', flags.cpusetCpus, `CPU ${offline[0]} is not online (online: ${online})`);
    limits.cpusetCpus = parsed.list;
  }

  if (flags.pidsLimit !== undefined) {
    const expected = 'expected a positive integer, or 0 or -1 for unlimited';
    const pids = integer('--pids-limit', flags.pidsLimit, expected);
    if (pids < -1) throw invalid('--pids-limit', flags.pidsLimit, expected);
    limits.pidsMax = pids <= 0 ? 'max' : pids;
  }

  const io = new Map<string, IoLimit>();
  const throttle = (flag: string, values: string[] | undefined, key: 'rbps' | 'wbps') => {
    for (const value of values ?? []) {
      const { info, device, rate } = parseDeviceRate(flag, value, env);
      const id = `${info.major}:${info.minor}`;
      const entry = io.get(id) ?? { device, major: info.major, minor: info.minor };
      entry[key] = rate;
      io.set(id, entry);
    }
  };
  throttle('--device-read-bps', flags.deviceReadBps, 'rbps');
  throttle('--device-write-bps', flags.deviceWriteBps, 'wbps');
  if (io.size > 0) limits.io = [...io.values()];

  return limits;
}

/** "/dev/sda:1mb" -> the device's numbers and 1048576 bytes per second. */
function parseDeviceRate(flag: string, value: string, env: LimitEnv): { info: BlockDeviceInfo; device: string; rate: number } {
  const colon = value.lastIndexOf(':');
  const device = colon < 0 ? '' : value.slice(0, colon);
  const rateText = colon < 0 ? '' : value.slice(colon + 1);
  if (!device.startsWith('/')) throw invalid(flag, value, 'expected DEVICE:RATE like /dev/sda:1mb');
  const rate = parseSizeBytes(rateText);
  if (rate === null || rate <= 0) throw invalid(flag, value, 'expected DEVICE:RATE like /dev/sda:1mb, with a positive rate');
  let info: BlockDeviceInfo;
  try {
    info = env.statDevice(device);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw invalid(flag, value, `cannot stat ${device}: ${code}`);
  }
  if (!info.isBlockDevice) throw invalid(flag, value, `${device} is not a block device`);
  if (info.isPartition) throw invalid(flag, value, `${device} is a partition; the kernel throttles whole disks, so name the disk it is on`);
  return { info, device, rate };
}
