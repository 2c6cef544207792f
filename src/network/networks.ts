/**
 * Network definitions: the default network created on first use, user networks created with
 * a checked subnet, and the host-side pieces every attached container shares (tsbox's nft
 * table, the bridge, ip_forward).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IFF_UP } from '../sys/netlink-constants.js';
import { UsageError } from '../errors.js';
import type { NetContext } from './context.js';
import { checkNetworkName, listNetworks, type NetworkDef, readLeases, readNetwork, removeLeaseDir, removeNetworkDef, withNetworkLock, withTableLock, writeNetwork } from './ipam/store.js';
import { lastUserRemovesBridge, reclaimDeadLeases } from './release.js';
import { checkSubnet, type HostRoute, ipToNum, numToIp, overlaps, parseCidr } from './ipam/subnet.js';
import { createBridge, enableForwarding, hostClient, listLinks, listRoutes, withClient } from './links.js';
import { applyNft } from './nft/apply.js';
import { forwardDropChains, firewallWarning } from './nft/firewall.js';
import { addNetworkText, guardUpgradeText, hasCurrentGuard, listTableText, tableText } from './nft/ruleset.js';
import { netlinkTrace } from './trace.js';

export const DEFAULT_NETWORK = 'tsbox0';
/**
 * Podman's default is 10.88.0.0/16 and its user networks take 10.89.x.0/24; docker takes
 * 172.17.0.0/16 and up. tsbox takes 10.45.0.0/16 so all three coexist on one host.
 */
export const DEFAULT_SUBNET = '10.45.0.0/16';
/** User networks without --subnet get the first free /24 of this pool. */
export const USER_POOL = '10.46.0.0/16';

/** The host's routes, named by interface, for the overlap check. */
export function hostRoutes(ctx: NetContext): HostRoute[] {
  return withClient(hostClient(netlinkTrace(ctx.trace)), (c) => {
    const names = new Map(listLinks(c).map((l) => [l.index, l.name]));
    return listRoutes(c).filter((r) => r.table === 254).map((r) => ({ dst: r.dst, dstLen: r.dstLen, ...(r.oif && names.has(r.oif) ? { dev: names.get(r.oif)! } : {}) }));
  });
}

export function bridgeNameFor(name: string): string {
  if (name === DEFAULT_NETWORK) return DEFAULT_NETWORK;
  return `tsbr${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/** Pure: the first /24 of the pool that overlaps no route and no network. */
export function pickSubnet(routes: HostRoute[], networks: { subnet: string }[], pool = USER_POOL): string | null {
  const p = parseCidr(pool);
  const taken = [...routes.filter((r) => r.dstLen > 0).map((r) => ({ base: ipToNum(r.dst) ?? 0, prefixLen: r.dstLen })), ...networks.map((n) => parseCidr(n.subnet))];
  for (let base = p.base; base < p.base + 2 ** (32 - p.prefixLen); base += 256) {
    const c = { base, prefixLen: 24 };
    if (!taken.some((t) => overlaps(c, t))) return `${numToIp(base)}/24`;
  }
  return null;
}

export interface CreateNetwork {
  name: string;
  subnet?: string;
  gateway?: string;
  /** Tests name their bridges with a prefix of their own. */
  bridge?: string;
}

/** A new network definition; nothing on the host changes until a container attaches. */
export function createNetwork(ctx: NetContext, req: CreateNetwork, routes = hostRoutes(ctx)): NetworkDef {
  checkNetworkName(req.name);
  try {
    return defineUnderLock(ctx, req, routes);
  } catch (err) {
    // The lock file made a lease directory: a refused network leaves nothing behind.
    if (!readNetwork(ctx.paths, req.name)) removeLeaseDir(ctx.paths, req.name);
    throw err;
  }
}

function defineUnderLock(ctx: NetContext, req: CreateNetwork, routes: HostRoute[]): NetworkDef {
  return withNetworkLock(ctx.paths, req.name, () => {
    if (readNetwork(ctx.paths, req.name)) throw new UsageError(`network ${req.name} already exists`, { step: 'network create', hint: 'Choose another name or remove it first.' });
    const others = listNetworks(ctx.paths);
    const subnet = req.subnet ?? pickSubnet(routes, others);
    if (!subnet) throw new UsageError('no free subnet left in the pool', { step: 'network create', hint: 'Give one with --subnet.' });
    const bridge = req.bridge ?? bridgeNameFor(req.name);
    const { gateway } = checkSubnet({ subnet, ...(req.gateway ? { gateway: req.gateway } : {}), routes, networks: others, ownBridge: bridge });
    const def: NetworkDef = { name: req.name, subnet, gateway, bridge, created: new Date().toISOString() };
    writeNetwork(ctx.paths, def);
    return def;
  });
}

/** A network by name; the default one is created on first use. */
export function ensureNetwork(ctx: NetContext, name: string, defaults: { subnet?: string; bridge?: string } = {}): NetworkDef {
  const def = readNetwork(ctx.paths, name);
  if (def) return def;
  if (name !== DEFAULT_NETWORK && !defaults.subnet) {
    throw new UsageError(`network ${name} does not exist`, { step: 'network', hint: `Create it with tsbox network create ${name}.` });
  }
  try {
    return createNetwork(ctx, { name, subnet: defaults.subnet ?? DEFAULT_SUBNET, ...(defaults.bridge ? { bridge: defaults.bridge } : {}) });
  } catch (err) {
    const again = readNetwork(ctx.paths, name); // another tsbox made it first
    if (again) return again;
    throw err;
  }
}

/**
 * tsbox's table, created once; `add rule` would duplicate rules, so only when missing. A
 * table an earlier tsbox made gets the current guard rule (the only rule changed since).
 */
export function ensureTable(ctx: NetContext): void {
  const listed = ctx.nft.run(listTableText(ctx.table));
  if (!listed.ok) {
    applyNft(ctx.nft, tableText(ctx.table), `create nft table ip ${ctx.table}`);
    return;
  }
  if (!hasCurrentGuard(listed.output)) applyNft(ctx.nft, guardUpgradeText(ctx.table), `update the guard rule of nft table ip ${ctx.table}`);
}

/**
 * Bridge up with its gateway, registered in the table; called under the network's lock.
 * Once all of that is done, the bridge's ifindex is written beside the leases: a later attach
 * that finds the same bridge (same index, up) skips the rest, about 4 ms. A half-made bridge
 * (a crash midway) has no marker, and a bridge re-created by someone has another index.
 */
export function ensureBridge(ctx: NetContext, def: NetworkDef): number {
  const marker = join(ctx.paths.leases, def.name, '.bridge');
  const ready = existsSync(marker) ? Number(readFileSync(marker, 'utf8')) : -1;
  // The warm path (every container once the bridge is up) reads sysfs instead of opening a
  // netlink socket: 2-8 ms less on the start path, where the first koffi calls are cold.
  const link = ready > 0 ? sysfsLink(def.bridge) : null;
  if (link && link.index === ready && (link.flags & IFF_UP) !== 0) return ready;
  const index = setUpBridge(ctx, def);
  writeFileSync(marker, String(index));
  return index;
}

/** A link's index and flags from /sys/class/net (the host's namespace: tsbox runs there), or null. */
function sysfsLink(name: string): { index: number; flags: number } | null {
  try {
    const dir = `/sys/class/net/${name}`;
    return { index: Number(readFileSync(`${dir}/ifindex`, 'utf8')), flags: Number.parseInt(readFileSync(`${dir}/flags`, 'utf8'), 16) };
  } catch {
    return null;
  }
}

function setUpBridge(ctx: NetContext, def: NetworkDef): number {
  const prefix = def.subnet.split('/')[1];
  const gw = def.gateway.split('.').map((p) => Number(p).toString(16).padStart(2, '0'));
  const mac = ['02', '00', ...gw].join(':'); // fixed, so ARP caches stay right as ports come and go
  const { index } = withClient(hostClient(netlinkTrace(ctx.trace)), (c) => createBridge(c, def.bridge, mac, `${def.gateway}/${prefix}`));
  withTableLock(ctx.paths, () => {
    ensureTable(ctx);
    applyNft(ctx.nft, addNetworkText(ctx.table, def.bridge, def.subnet), `register ${def.bridge} in nft table ${ctx.table}`);
  });
  enableForwarding();
  return index;
}

/**
 * One line per other table that would drop this network's forwarded traffic (trap 3), for
 * the caller to print as a warning; tsbox itself never edits other tables.
 */
export function hostFirewallWarnings(ctx: NetContext, def: NetworkDef): string[] {
  const r = ctx.nft.run('list chains\n');
  if (!r.ok) return [];
  return forwardDropChains(r.output, ctx.table).map((c) => firewallWarning(c, def.bridge));
}

/**
 * `tsbox network rm`: refused while a live container is attached; otherwise the bridge, its
 * firewall entries, its lease directory and its definition go (dead owners' leases first).
 */
export function removeNetwork(ctx: NetContext, name: string): void {
  const def = readNetwork(ctx.paths, name);
  if (!def) throw new UsageError(`network ${name} does not exist`, { step: 'network rm', hint: 'See tsbox network ls.' });
  withNetworkLock(ctx.paths, name, () => {
    reclaimDeadLeases(ctx, name);
    const live = readLeases(ctx.paths, name);
    if (live.length > 0) {
      throw new UsageError(`network ${name} has ${live.length} container${live.length === 1 ? '' : 's'} attached (${live.map((l) => l.owner.containerId.slice(0, 12)).join(', ')})`, {
        step: 'network rm', hint: 'Stop or remove them first.',
      });
    }
    lastUserRemovesBridge(ctx, ctx.paths, { kind: 'bridge-user', network: name, bridge: def.bridge, subnet: def.subnet, leases: ctx.paths.leases, table: ctx.table });
    removeNetworkDef(ctx.paths, name);
  });
}
