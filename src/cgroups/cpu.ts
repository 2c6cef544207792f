/**
 * CPU values: docker's --cpus, --cpu-shares and --cpuset-cpus turned into what cgroup v2
 * stores. Pure.
 */

/** The CFS period docker and runc use; --cpus N becomes a quota of N periods. */
export const CPU_PERIOD_US = 100_000;
/** The kernel refuses a quota below 1 ms (cpu.max write fails with EINVAL). */
export const CPU_MIN_QUOTA_US = 1_000;

export const SHARES_MIN = 2;
export const SHARES_MAX = 262_144;
export const WEIGHT_MIN = 1;
export const WEIGHT_MAX = 10_000;

/**
 * cgroup v1 cpu.shares (2..262144, default 1024) to cgroup v2 cpu.weight (1..10000, default
 * 100), as current runc (opencontainers/cgroups) converts it: on a log scale, a quadratic
 * in log2(shares) chosen so the three anchors map exactly (2 -> 1, 1024 -> 100,
 * 262144 -> 10000). The older linear mapping turned the default 1024 into 39, which made a
 * container with default shares weigh less than its neighbours; this one keeps 1024 at 100.
 * Out-of-range values are clamped as runc does.
 */
export function sharesToWeight(shares: number): number {
  if (shares <= SHARES_MIN) return WEIGHT_MIN;
  if (shares >= SHARES_MAX) return WEIGHT_MAX;
  const l = Math.log2(shares);
  // exponent = (l^2 + 125 l) / 612 - 7/34, written over one denominator (7/34 = 126/612) so
  // that the anchors come out as exact powers of ten instead of 100.00000000000001.
  const exponent = (l * l + 125 * l - 126) / 612;
  return Math.min(WEIGHT_MAX, Math.ceil(10 ** exponent));
}

/** "1.5" -> 150000 µs per 100000 µs period; null when not a positive decimal. */
export function cpusToQuotaUs(text: string): number | null {
  if (!/^\d+(?:\.\d+)?$/.test(text.trim())) return null;
  const cpus = Number(text);
  if (!(cpus > 0)) return null;
  return Math.round(cpus * CPU_PERIOD_US);
}

/** Far above any real machine; stops "0-999999999" from expanding into a huge array. */
const MAX_CPU = 65_535;

/**
 * A cpuset list as the kernel writes it: "0-3,5,7-8". Returns the list normalised (no
 * spaces) and the CPUs it names, or null when the syntax is wrong or a range runs backwards.
 */
export function parseCpuList(text: string): { list: string; cpus: number[] } | null {
  const list = text.replace(/\s+/g, '');
  if (list === '') return null;
  const cpus = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to > MAX_CPU) return null;
    for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  }
  return { list, cpus: [...cpus].sort((a, b) => a - b) };
}
