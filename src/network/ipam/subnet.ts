/**
 * IPv4 subnet arithmetic and the checks a network's subnet must pass. Pure: routes come in
 * as data (read by the caller through rtnetlink), errors are one line with a hint.
 */
import { UsageError } from '../../errors.js';

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefixLen: number;
}

export function ipToNum(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export const numToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

const mask = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

/** "10.45.0.0/16" -> Cidr; host bits set ("10.45.0.1/16") is an error, as docker says. */
export function parseCidr(text: string, what = 'subnet'): Cidr {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  const base = m ? ipToNum(m[1]!) : null;
  const len = m ? Number(m[2]) : NaN;
  if (base === null || !(len >= 0 && len <= 32)) {
    throw new UsageError(`invalid ${what} "${text}"`, { step: 'network', hint: 'Give an IPv4 CIDR such as 10.46.1.0/24.' });
  }
  if ((base & ~mask(len)) >>> 0 !== 0) {
    throw new UsageError(`invalid ${what} "${text}": host bits are set`, { step: 'network', hint: `Did you mean ${numToIp((base & mask(len)) >>> 0)}/${len}?` });
  }
  return { base, prefixLen: len };
}

export const cidrText = (c: Cidr): string => `${numToIp(c.base)}/${c.prefixLen}`;
export const size = (c: Cidr): number => 2 ** (32 - c.prefixLen);
export const contains = (c: Cidr, ip: number): boolean => ((ip & mask(c.prefixLen)) >>> 0) === c.base;

export function overlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.prefixLen, b.prefixLen);
  return ((a.base & mask(len)) >>> 0) === ((b.base & mask(len)) >>> 0);
}

/** Usable addresses: not the network address, not broadcast. */
export function firstHost(c: Cidr): number {
  return c.base + 1;
}
export function lastHost(c: Cidr): number {
  return c.base + size(c) - 2;
}

export interface HostRoute {
  dst: string;
  dstLen: number;
  /** The interface's name when known, for the error message. */
  dev?: string;
}

export interface SubnetCheck {
  subnet: string;
  gateway?: string;
  /** The host's routes (main table); the default route is ignored. */
  routes: HostRoute[];
  /** Other tsbox networks: their subnets must not overlap either. */
  networks: { name: string; subnet: string; bridge: string }[];
  /** The network's own bridge: its route is not a conflict (re-checking an existing network). */
  ownBridge?: string;
}

/** The named checks a subnet passes before anything is created; returns the parsed subnet and gateway. */
export function checkSubnet(check: SubnetCheck): { cidr: Cidr; gateway: string } {
  const cidr = parseCidr(check.subnet);
  if (cidr.prefixLen > 30) {
    throw new UsageError(`subnet ${check.subnet} is too small`, { step: 'network', hint: 'A network needs a prefix of /30 or shorter (room for a gateway and a container).' });
  }
  for (const n of check.networks) {
    if (overlaps(cidr, parseCidr(n.subnet))) {
      throw new UsageError(`subnet ${check.subnet} overlaps network ${n.name} (${n.subnet})`, { step: 'network', hint: 'Choose another --subnet.' });
    }
  }
  for (const r of check.routes) {
    if (r.dstLen === 0) continue;
    if (check.ownBridge && r.dev === check.ownBridge) continue;
    const dst = ipToNum(r.dst);
    if (dst === null) continue;
    if (overlaps(cidr, { base: dst, prefixLen: r.dstLen })) {
      throw new UsageError(`subnet ${check.subnet} overlaps the host route ${r.dst}/${r.dstLen}${r.dev ? ` on ${r.dev}` : ''}`, {
        step: 'network', hint: 'Containers could not reach those addresses; choose another --subnet.',
      });
    }
  }
  const gw = check.gateway ?? numToIp(firstHost(cidr));
  const gwNum = ipToNum(gw);
  if (gwNum === null || !contains(cidr, gwNum) || gwNum === cidr.base || gwNum === lastHost(cidr) + 1) {
    throw new UsageError(`gateway ${gw} is not a host address of ${check.subnet}`, { step: 'network', hint: 'Give a --gateway inside the subnet, e.g. its first address.' });
  }
  return { cidr, gateway: gw };
}

/**
 * The lowest free address, skipping the gateway and `taken`. Lowest-free keeps addresses
 * small and predictable; a released address is reused at once, which is why releases also
 * delete the conntrack-visible port mappings before the lease goes (docs/networking.md).
 */
export function lowestFree(cidr: Cidr, gateway: string, taken: ReadonlySet<string>): string | null {
  for (let n = firstHost(cidr); n <= lastHost(cidr); n++) {
    const ip = numToIp(n);
    if (ip !== gateway && !taken.has(ip)) return ip;
  }
  return null;
}

/**
 * Which address a new lease takes, and which released addresses' conntrack entries must be
 * flushed first (release.ts forgetFlows): `stale` addresses are skipped while any other is
 * free; when none is, all of them are flushed in one dump and the lowest is taken. A
 * requested address (`--ip`) is flushed alone if stale. Null: the subnet is full.
 */
export function pickAddress(cidr: Cidr, gateway: string, taken: ReadonlySet<string>, stale: ReadonlySet<string>, requested?: string): { ip: string; flush: 'none' | 'it' | 'all' } | null {
  if (requested !== undefined) return taken.has(requested) ? null : { ip: requested, flush: stale.has(requested) ? 'it' : 'none' };
  const clean = lowestFree(cidr, gateway, new Set([...taken, ...stale]));
  if (clean) return { ip: clean, flush: 'none' };
  const any = lowestFree(cidr, gateway, new Set(taken));
  return any ? { ip: any, flush: 'all' } : null;
}

/** A requested --ip: inside the subnet, a host address, not the gateway. */
export function checkRequestedIp(cidr: Cidr, gateway: string, ip: string): void {
  const n = ipToNum(ip);
  const subnet = cidrText(cidr);
  if (n === null) throw new UsageError(`invalid --ip "${ip}"`, { step: 'network', hint: 'Give an IPv4 address.' });
  if (!contains(cidr, n) || n === cidr.base || n === lastHost(cidr) + 1) {
    throw new UsageError(`--ip ${ip} is not a host address of the network's subnet ${subnet}`, { step: 'network', hint: 'Pick an address inside the subnet.' });
  }
  if (ip === gateway) throw new UsageError(`--ip ${ip} is the network's gateway`, { step: 'network', hint: 'Pick another address.' });
}
