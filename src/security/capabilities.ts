/**
 * Capability names and the arithmetic of --cap-add / --cap-drop / --privileged. Pure: the
 * plan is computed in the parent; which capabilities the running kernel knows is only
 * asked at apply time (see apply-steps.ts).
 */
import { UsageError } from '../errors.js';

/** capabilities(7), by number (the bit index in the kernel's masks). CAP_ prefix left off. */
const CAPABILITY_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID',
  'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW',
  'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT',
  'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD',
  'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
] as const;

const numberByName = new Map<string, number>(CAPABILITY_NAMES.map((name, i) => [`CAP_${name}`, i]));

/** Every capability tsbox knows by name, canonical form ("CAP_CHOWN"), in bit order. */
export const ALL_CAPABILITIES: readonly string[] = CAPABILITY_NAMES.map((n) => `CAP_${n}`);

/**
 * podman's default set: enough for a typical image's root user (chown files, bind low
 * ports, switch users, chroot), nothing that reaches outside the container (no
 * NET_RAW, MKNOD, AUDIT_WRITE, unlike docker's older default).
 */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

/** "net_admin", "CAP_NET_ADMIN", "Net_Admin" → "CAP_NET_ADMIN". "ALL" stays "ALL". */
export function parseCapabilityName(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const canonical = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (numberByName.has(canonical)) return canonical;
  const near = closestCapability(canonical);
  throw new UsageError(`unknown capability "${name}"`, {
    hint: near
      ? `Did you mean ${near.slice(4)}? Names are those of capabilities(7), with or without CAP_; ALL means every capability.`
      : 'Use a name from capabilities(7), with or without CAP_ (e.g. NET_ADMIN), or ALL for every capability.',
  });
}

/** The kernel's bit number of a canonical name; undefined for names tsbox does not know. */
export function capabilityNumber(name: string): number | undefined {
  return numberByName.get(name);
}

/** Canonical name of a bit number; "CAP_<n>" for bits newer than tsbox's table. */
export function capabilityName(bit: number): string {
  return ALL_CAPABILITIES[bit] ?? `CAP_${bit}`;
}

export interface CapabilityRequest {
  capAdd: readonly string[];
  capDrop: readonly string[];
  privileged: boolean;
}

/**
 * The container's bounding set, docker's rules:
 *  - --cap-add ALL: every capability, minus --cap-drop;
 *  - else --cap-drop ALL: only --cap-add;
 *  - else the default set, minus --cap-drop, plus --cap-add (an add wins over a drop).
 * --privileged: every capability the kernel knows ('all', resolved at apply time), minus
 * any --cap-drop (podman's reading: an explicit drop is honoured even when privileged).
 */
export function resolveBoundingSet(req: CapabilityRequest): string[] | 'all' {
  const add = req.capAdd.map(parseCapabilityName);
  const drop = req.capDrop.map(parseCapabilityName);
  const dropped = (set: readonly string[]) => set.filter((c) => !drop.includes(c));
  if (req.privileged) return drop.length === 0 ? 'all' : dropped(ALL_CAPABILITIES);
  if (add.includes('ALL')) return dropped(ALL_CAPABILITIES);
  const base = drop.includes('ALL') ? [] : dropped(DEFAULT_CAPABILITIES);
  return sortByBit([...base, ...add]);
}

/** Unique, in the kernel's bit order, so plans and logs are stable. */
export function sortByBit(names: readonly string[]): string[] {
  return [...new Set(names)].sort((a, b) => (numberByName.get(a) ?? 0) - (numberByName.get(b) ?? 0));
}

function closestCapability(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of ALL_CAPABILITIES) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}
