/**
 * The network flags of a run, checked in pure code before anything is created: --network's
 * mode, and which flags each mode can carry (one line, exit 125, otherwise).
 */
import { UsageError } from '../errors.js';
import { checkNetworkName, type NetworkDef } from './ipam/store.js';
import { checkRequestedIp, parseCidr } from './ipam/subnet.js';
import { planAttachment } from './plan.js';
import { checkDuplicates, parsePublish } from './ports.js';

/** The default network's name (networks.ts DEFAULT_NETWORK, repeated: that module is not pure). */
export const DEFAULT_NETWORK = 'tsbox0';

/** What --network names. `bridge` is the default network tsbox0 (created on first use). */
export type NetworkMode =
  | { kind: 'none' }
  | { kind: 'host' }
  | { kind: 'bridge'; network: string; user: boolean }
  | { kind: 'container'; name: string };

export interface ContainerNetworkConfig {
  mode: NetworkMode;
  aliases: string[];
  publish: string[];
  publishAll: boolean;
  ip?: string;
  mac?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  addHosts: string[];
}

const badNetwork = (what: string, hint: string) => new UsageError(what, { step: 'network', hint });

export function parseNetworkMode(text: string): NetworkMode {
  if (text === 'none') return { kind: 'none' };
  if (text === 'host') return { kind: 'host' };
  if (text === 'bridge' || text === DEFAULT_NETWORK) return { kind: 'bridge', network: DEFAULT_NETWORK, user: false };
  if (text.startsWith('container:')) {
    const name = text.slice('container:'.length);
    if (name === '') throw badNetwork('--network container: names no container', 'Give the name or id of a running container: --network container:NAME.');
    return { kind: 'container', name };
  }
  checkNetworkName(text);
  return { kind: 'bridge', network: text, user: true };
}

/**
 * --network when not given: bridge, as docker and rootful podman. Affordable because the
 * default network's bridge stays up between containers (release.ts) and the attach overlaps
 * the init's cgroup move: docs/networking.md, "The default".
 */
export function defaultNetwork(): string {
  return 'bridge';
}

/** Whether the init gets a network namespace of its own (none, bridge) rather than the host's or another container's. */
export const ownNetns = (mode: NetworkMode): boolean => mode.kind === 'none' || mode.kind === 'bridge';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const validIpv4 = (s: string) => IPV4.test(s) && s.split('.').every((p) => Number(p) <= 255);

/**
 * The network flags, checked before anything is created: modes that cannot carry a flag
 * refuse it (one line, 125), a user network must exist, --ip must fit its subnet.
 * `lookup` reads a network definition (readNetwork on the host-wide store).
 */
export function checkNetworkConfig(cfg: ContainerNetworkConfig, lookup: (name: string) => NetworkDef | null): void {
  const m = cfg.mode;
  const without = (flag: string, why: string) => badNetwork(`${flag} cannot be used with --network ${m.kind === 'container' ? `container:${m.name}` : m.kind}: ${why}`, 'Use --network bridge or a network made with tsbox network create.');
  if (m.kind !== 'bridge') {
    if (cfg.publish.length > 0) throw without('-p/--publish', m.kind === 'host' ? 'the container already uses the host\'s ports' : 'the container has no network a port could reach');
    if (cfg.ip !== undefined) throw without('--ip', 'the container gets no address of its own');
    if (cfg.mac !== undefined) throw without('--mac-address', 'the container gets no interface of its own');
    if (cfg.aliases.length > 0) throw without('--network-alias', 'aliases are names on a user network');
  }
  if (m.kind === 'container' && (cfg.dns.length > 0 || cfg.dnsSearch.length > 0 || cfg.dnsOptions.length > 0)) throw without('--dns', 'the container shares another container\'s network');
  if (m.kind === 'bridge' && !m.user && cfg.aliases.length > 0) throw without('--network-alias', 'the default network has no names; create one with tsbox network create');
  for (const d of cfg.dns) if (!validIpv4(d)) throw badNetwork(`invalid --dns "${d}": not an IPv4 address`, 'Give a nameserver address, e.g. --dns 192.0.2.53.');
  for (const h of cfg.addHosts) {
    const i = h.lastIndexOf(':');
    const ip = h.slice(i + 1);
    if (i <= 0 || !(validIpv4(ip) || ip === 'host-gateway')) throw badNetwork(`invalid --add-host "${h}"`, 'Use NAME:IP or NAME:host-gateway, e.g. --add-host db:192.0.2.7.');
    if (ip === 'host-gateway' && m.kind !== 'bridge') throw without('--add-host NAME:host-gateway', 'there is no gateway to the host');
  }
  // The ports' syntax and duplicates, before the run starts (attach checks the host ports are free).
  checkDuplicates(cfg.publish.flatMap(parsePublish));
  if (m.kind === 'bridge') {
    const def = lookup(m.network);
    if (m.user && !def) throw badNetwork(`network ${m.network} does not exist`, `Create it with tsbox network create ${m.network}, or see tsbox network ls.`);
    if (cfg.ip !== undefined) {
      if (!m.user) throw without('--ip', 'addresses on the default network are assigned; create a network with tsbox network create to choose one');
      checkRequestedIp(parseCidr(def!.subnet), def!.gateway, cfg.ip);
    }
    if (cfg.mac !== undefined) planAttachment(def ?? { name: m.network, subnet: '10.0.0.0/8', gateway: '10.0.0.1', bridge: 'x', created: '' }, { id: '0'.repeat(12), name: 'x' }, { mac: cfg.mac });
  }
}

