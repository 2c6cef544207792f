/**
 * Releasing what an attachment holds, one record at a time, idempotently: a record may be
 * released after a crash, twice, or after the container's namespace is already gone (its
 * veth then went with it: ENODEV is success).
 */
import type { NetContext } from './context.js';
import { flushConntrackFor } from './conntrack/flush.js';
import { type Lease, readLeases, removeLease, removeLeaseDir, deadLeases, ownedLease, type NetPaths, withNetworkLock, withTableLock } from './ipam/store.js';
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
    case 'portmap':
      if (r.ports.length > 0) applyNft(ctx.nft, removePortsText(r.table, r.ports), 'unpublish ports');
      return;
    case 'veth':
      withClient(hostClient(netlinkTrace(ctx.trace)), (c) => deleteLink(c, r.hostName));
      return;
    case 'lease':
      paths.leases = r.leases;
      withNetworkLock(paths, r.network, () => {
        const lease = ownedLease(paths, r.network, r.ip, r.containerId);
        if (!lease) return;
        forgetFlows(ctx, r.ip);
        removeLease(paths, r.network, r.ip, r.containerId);
      });
      return;
    case 'bridge-user':
      paths.leases = r.leases;
      withNetworkLock(paths, r.network, () => lastUserRemovesBridge(ctx, paths, r));
      return;
  }
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
    forgetFlows(ctx, l.ip);
    removeLease(ctx.paths, network, l.ip, l.owner.containerId);
  }
  return dead;
}

/**
 * Before an address goes back to the pool, the host's conntrack entries that involve it go
 * too (trap 5): else a reused address or port inherits the old NAT decisions, and replies to
 * the old owner's masqueraded flows would reach the new one. The dump costs 10-40 ms (the
 * kernel walks its whole table); correctness first, for every lease.
 * Best effort: a host without conntrack has nothing to forget.
 */
function forgetFlows(ctx: NetContext, ip: string): void {
  try {
    flushConntrackFor(ip, ctx.trace);
  } catch {
    // nf_conntrack not loaded, or ctnetlink unavailable: no entries can exist that matter.
  }
}
