/**
 * The link executor: bridge, veth into a container's namespace, the container-side set-up,
 * deletion and byte counters, each as rtnetlink requests through RtnlClient. The sockets come
 * from src/sys/netlink.ts; which namespace a socket lives in decides where a request acts.
 */
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { openRouteSocket, openRouteSocketIn } from '../sys/netlink.js';
import { RTM } from '../sys/netlink-constants.js';
import { RtnlClient, type NetlinkTrace } from './rtnetlink/client.js';
import { NetlinkError } from './rtnetlink/errors.js';
import * as msg from './rtnetlink/messages.js';
import { type LinkInfo, parseLink, parseRoute, type RouteInfo } from './rtnetlink/parse.js';

export function hostClient(trace?: NetlinkTrace): RtnlClient {
  return new RtnlClient(openRouteSocket(), 'host', trace);
}

export function netnsClient(netnsFd: number, trace?: NetlinkTrace): RtnlClient {
  return new RtnlClient(openRouteSocketIn(netnsFd), `netns fd ${netnsFd}`, trace);
}

export function withClient<T>(client: RtnlClient, fn: (c: RtnlClient) => T): T {
  try {
    return fn(client);
  } finally {
    client.close();
  }
}

/** A link by name, or null when there is none (ENODEV). */
export function findLink(c: RtnlClient, name: string): LinkInfo | null {
  try {
    const m = c.get(msg.getLink(name));
    return m.type === RTM.NEWLINK ? parseLink(m.payload) : null;
  } catch (err) {
    if (err instanceof NetlinkError && err.code === 'ENODEV') return null;
    throw err;
  }
}

export function listLinks(c: RtnlClient): LinkInfo[] {
  return c.dump(msg.dumpLinks()).filter((m) => m.type === RTM.NEWLINK).map((m) => parseLink(m.payload));
}

export function listRoutes(c: RtnlClient): RouteInfo[] {
  return c.dump(msg.dumpRoutes()).filter((m) => m.type === RTM.NEWROUTE).map((m) => parseRoute(m.payload));
}

/**
 * The network's bridge with its gateway address, up: created if missing, completed if a
 * crashed creator left it half-made. The caller holds the network's lock, so two tsbox
 * processes never race here; EEXIST is still tolerated for anything made outside tsbox.
 */
export function createBridge(c: RtnlClient, name: string, mac: string, gatewayCidr: string): { index: number; created: boolean } {
  let link = findLink(c, name);
  let created = false;
  if (link && link.kind !== 'bridge') throw new Error(`${name} exists and is a ${link.kind ?? 'plain'} link, not a bridge`);
  if (!link) {
    try {
      created = c.tryDo(msg.newBridge(name, mac), ['EEXIST']) === null;
    } catch (err) {
      // No bridge module (EOPNOTSUPP: "Unknown device type"): this host cannot do bridge networking.
      if (err instanceof NetlinkError && err.code === 'EOPNOTSUPP') throw err.withHint('This kernel has no bridge support; use --network none.');
      throw err;
    }
    link = findLink(c, name);
    if (!link) throw new Error(`bridge ${name} vanished right after its creation`);
  }
  const [ip, len] = gatewayCidr.split('/');
  c.tryDo(msg.newAddr(link.index, ip!, Number(len), name), ['EEXIST']);
  c.do(msg.setLinkUp(link.index, name));
  // 127.0.0.1:PORT -> container needs local-source packets routed out of the bridge; the
  // guard chain in tsbox's nft table drops the reverse direction (container -> host loopback).
  writeFileSync(`/proc/sys/net/ipv4/conf/${name}/route_localnet`, '1');
  return { index: link.index, created };
}

/**
 * ip_forward is host-wide: turned on, never off (other runtimes may rely on it). Written only
 * when it is off: a write resets every interface's own forwarding setting.
 */
export function enableForwarding(): void {
  if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1') writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
}

/**
 * The veth, its host end on the bridge (with hairpin on when asked), its peer born inside the
 * netns. Returns the peer's ifindex in the container's namespace when sysfs tells it (the host
 * end's `iflink`), so the in-namespace set-up needs no lookup round trip; null if unknown.
 */
export function createVethIntoNetns(c: RtnlClient, spec: msg.VethSpec, onCreated?: () => void, hairpin = true): number | null {
  c.do(msg.newVeth(spec));
  onCreated?.();
  if (hairpin) {
    const index = sysfsNumber(spec.hostName, 'ifindex') ?? findLink(c, spec.hostName)?.index;
    if (index === undefined) throw new Error(`veth ${spec.hostName} vanished right after its creation`);
    c.do(msg.setHairpin(index, true));
  }
  return sysfsNumber(spec.hostName, 'iflink');
}

/**
 * /sys/class/net/NAME/FILE as a number, or null. tsbox runs in the host's namespace, whose
 * links its /sys shows: reading a file there costs no netlink round trip. For a veth,
 * `iflink` is its peer's ifindex (in the peer's namespace).
 */
export function sysfsNumber(name: string, file: 'ifindex' | 'iflink'): number | null {
  try {
    const n = Number(readFileSync(`/sys/class/net/${name}/${file}`, 'utf8'));
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export interface InsideConfig {
  ifName: string;
  /** Its ifindex in the namespace, when known (createVethIntoNetns); else looked up by name. */
  index?: number | null;
  ip: string;
  prefixLen: number;
  gateway: string;
}

/**
 * Inside the container's namespace: lo up; the address on eth0, eth0 up; the default route.
 * One datagram for the four (the kernel applies them in order, acking each), plus one lookup
 * when eth0's index is not known.
 */
export function configureInNetns(c: RtnlClient, cfg: InsideConfig): void {
  const index = cfg.index ?? findLink(c, cfg.ifName)?.index;
  if (index === undefined) throw new Error(`${cfg.ifName} is not in the container's network namespace`);
  c.doAll(msg.insideRequests({ ifName: cfg.ifName, index, ip: cfg.ip, prefixLen: cfg.prefixLen, gateway: cfg.gateway }));
}

/** Delete a link by name; true if it was there. Missing is success: releases are idempotent. */
export function deleteLink(c: RtnlClient, name: string): boolean {
  return c.tryDo(msg.delLink({ name }), ['ENODEV']) === null;
}

export interface LinkBytes {
  rxBytes: number;
  txBytes: number;
}

/** The container's view of its traffic: eth0's counters read inside its namespace. */
export function linkStats(netnsFd: number, name = 'eth0', trace?: NetlinkTrace): LinkBytes | null {
  return withClient(netnsClient(netnsFd, trace), (c) => {
    const l = findLink(c, name);
    if (!l || l.rxBytes === undefined) return null;
    return { rxBytes: Number(l.rxBytes), txBytes: Number(l.txBytes) };
  });
}

/**
 * A veth peer's byte counters as seen from its host end `hostName` in /sys/class/net: what
 * the host end transmitted the peer received, and the reverse. Null when not readable.
 */
export function peerBytes(hostName: string): LinkBytes | null {
  try {
    const dir = `/sys/class/net/${hostName}/statistics`;
    const rx = Number(readFileSync(`${dir}/tx_bytes`, 'utf8'));
    const tx = Number(readFileSync(`${dir}/rx_bytes`, 'utf8'));
    return Number.isFinite(rx) && Number.isFinite(tx) ? { rxBytes: rx, txBytes: tx } : null;
  } catch {
    return null;
  }
}

/** An open fd on /proc/PID/ns/net: what the veth and the in-namespace socket need. */
export function openNetns(pid: number): number {
  return openSync(`/proc/${pid}/ns/net`, 'r');
}

export function closeFd(fd: number): void {
  closeSync(fd);
}
