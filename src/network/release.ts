/**
 * Releasing what an attachment holds, one record at a time, idempotently: a record may be
 * released after a crash, twice, or after the container's namespace is already gone (its
 * veth then went with it: ENODEV is success).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { NetContext } from './context.js';
import { startTimeFromStat } from './ipam/owner.js';
import { DEFAULT_NETWORK } from './container-network-config.js';
import { flushConntrackFor, flushConntrackForAll } from './conntrack/flush.js';
import { clearStale, type Lease, leasePath, readLeases, removeLease, removeLeaseDir, deadLeases, ownedLease, type NetPaths, retireLease, staleAddresses, withNetworkLock, withTableLock } from './ipam/store.js';
import { deleteLink, hostClient, withClient } from './links.js';
import { applyNft } from './nft/apply.js';
import { deleteTableText, listTableText, removeNetworkText, removePortsText } from './nft/ruleset.js';
import { networkResourceSchema, type NetworkResource } from './resources.js';
import { netlinkTrace } from './trace.js';

/** `record` may come from disk (the model's resource record): it is checked first. */
export function releaseNetworkResource(ctx: NetContext, record: NetworkResource): void {
  const r = networkResourceSchema.parse(record);
  const paths = { ...ctx.paths };
  switch (r.kind) {
    case 'portmap': {
      if (r.ports.length === 0) return;
      // No table, no elements: it went with its last network (network rm, or the last user of
      // a user network reclaiming this dead owner's lease first). Idempotent, as every release.
      const removed = ctx.nft.run(removePortsText(r.table, r.ports));
      if (!removed.ok && !ctx.nft.run(listTableText(r.table)).ok) return;
      if (!removed.ok) applyNft(ctx.nft, removePortsText(r.table, r.ports), 'unpublish ports');
      return;
    }
    case 'veth':
      if (r.holder && !namespaceHeld(r.holder)) return;
      withClient(hostClient(netlinkTrace(ctx.trace)), (c) => deleteLink(c, r.hostName));
      return;
    case 'lease':
      paths.leases = r.leases;
      // Gone already (a run releases its network, then its recorded copy): nothing to lock
      // for. A file of that name appears again only as someone else's lease, never ours.
      if (!existsSync(leasePath(paths, r.network, r.ip))) return;
      withNetworkLock(paths, r.network, () => {
        const lease = ownedLease(paths, r.network, r.ip, r.containerId);
        if (lease) freeAddress(ctx, paths, lease);
      });
      return;
    case 'bridge-user':
      // The default network's bridge outlives its containers, as docker0 does: the next run
      // finds it up instead of paying for its set-up (17 ms) and teardown (42 ms) each time,
      // which is what made `bridge` affordable as the default. Only its lease went (above);
      // `tsbox network prune` takes the idle bridge and the nft table down.
      if (r.network === DEFAULT_NETWORK) return;
      paths.leases = r.leases;
      withNetworkLock(paths, r.network, () => lastUserRemovesBridge(ctx, paths, r));
      return;
  }
}

/**
 * Whether the process holding a veth's namespace still lives. A zombie counts as gone: it
 * left its namespaces on exit, and as a pid namespace's init it exits only after every other
 * process of the container did.
 */
function namespaceHeld(h: { pid: number; startTime: string }): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${h.pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return startTimeFromStat(stat) === h.startTime && state !== 'Z' && state !== 'X';
}

export type BridgeUser = Extract<NetworkResource, { kind: 'bridge-user' }>;

/**
 * Called holding the network's lock (a bridge-user release, network rm): the last user
 * removes the bridge and the network's elements; a definition stays.
 */
export function lastUserRemovesBridge(ctx: NetContext, paths: NetPaths, r: BridgeUser): void {
  // Leases of SIGKILLed owners do not keep the bridge: reclaim them first.
  reclaimDeadLeases({ ...ctx, paths, table: r.table }, r.network);
  if (readLeases(paths, r.network).length > 0) return;
  // The lease directory (and its stale-address markers) goes with the bridge: flush first.
  flushStale({ ...ctx, paths }, r.network);
  withClient(hostClient(netlinkTrace(ctx.trace)), (c) => deleteLink(c, r.bridge));
  withTableLock(paths, () => {
    if (!ctx.nft.run(listTableText(r.table)).ok) return;
    applyNft(ctx.nft, removeNetworkText(r.table, r.bridge, r.subnet), `unregister ${r.bridge}`);
    // The table goes with the last network: nothing of tsbox's stays in the firewall.
    const bridges = ctx.nft.run(`list set ip ${r.table} bridges\n`);
    if (bridges.ok && !/elements\s*=/.test(bridges.output)) applyNft(ctx.nft, deleteTableText(r.table), `delete nft table ip ${r.table}`);
  });
  removeLeaseDir(paths, r.network);
}

/**
 * What a SIGKILLed owner left: its published ports and host veth, then its lease. Called
 * under the network's lock before allocating, so a reclaimed address is clean when reused.
 */
export function reclaimDeadLeases(ctx: NetContext, network: string): Lease[] {
  const dead = deadLeases(ctx.paths, network);
  for (const l of dead) {
    if (l.ports.length > 0) ctx.nft.run(removePortsText(ctx.table, l.ports)); // best effort: the add-then-delete refuses others' elements
    withClient(hostClient(netlinkTrace(ctx.trace)), (c) => deleteLink(c, l.hostVeth));
    freeAddress(ctx, ctx.paths, l);
  }
  return dead;
}

/** Stale addresses per network that make the next attach flush them all at once (one dump each 64 runs). */
export const STALE_BATCH = 64;

/**
 * Frees a lease's address, called under the network's lock with the lease just read as its
 * owner's. Before an address goes back to the pool, the host's conntrack entries that involve
 * it go too (trap 5): else a reused address or port inherits the old NAT decisions, and
 * replies to the old owner's masqueraded flows would reach the new one. The dump is what
 * costs (10-40 ms: the kernel walks its whole table), so:
 * - a lease that published ports is flushed now: a stale DNAT entry would send a client's
 *   next datagram to a host port's old address instead of its new owner;
 * - any other lease file is renamed to the address's stale marker (`IP.conntrack`): one
 *   rename, so a crash leaves the lease (reclaimed as a dead owner's) or the marker, never a
 *   free address with unflushed flows. Allocation skips marked addresses until one dump
 *   flushes every stale address of the network: when an attach finds STALE_BATCH waiting
 *   (attach.ts: the dump then runs while that container's init mounts, not in an exit the
 *   user waits for), when allocation finds no clean address, or when the bridge goes. Until then nothing owns the
 *   address, so its leftover entries can reach nobody.
 * Best effort: a host without conntrack has nothing to forget.
 */
function freeAddress(ctx: NetContext, paths: NetPaths, lease: Lease): void {
  if (lease.ports.length > 0) {
    try {
      flushConntrackFor(lease.ip, ctx.trace);
    } catch {
      // nf_conntrack not loaded, or ctnetlink unavailable: no entries can exist that matter.
    }
    removeLease(paths, lease.network, lease.ip, lease.owner.containerId);
    return;
  }
  retireLease(paths, lease.network, lease.ip);
}

/** One conntrack dump for every stale address of `network` (or only `only`), then their markers go. Under the network's lock. */
export function flushStale(ctx: NetContext, network: string, only?: string): void {
  const all = staleAddresses(ctx.paths, network);
  const ips = only === undefined ? all : new Set([...all].filter((ip) => ip === only));
  if (ips.size === 0) return;
  try {
    flushConntrackForAll(ips, ctx.trace);
  } catch {
    // nf_conntrack not loaded, or ctnetlink unavailable: no entries can exist that matter.
  }
  for (const ip of ips) clearStale(ctx.paths, network, ip);
}
