/**
 * attach(plan, netnsFd): the executor the container model calls. Order matters for crash
 * safety: the lease (with the ports and veth it will own) is on disk before any link or rule
 * exists, so whatever a SIGKILL interrupts, the lease names it and the next command reclaims it.
 */
import { TsboxError } from '../errors.js';
import type { NetContext } from './context.js';
import { type Lease, staleAddresses, takenAddresses, withNetworkLock, writeLease } from './ipam/store.js';
import { ownerFor, processStartTime } from './ipam/owner.js';
import { parseCidr, pickAddress } from './ipam/subnet.js';
import { probePort } from './host-ports.js';
import { configureInNetns, createVethIntoNetns, hostClient, netnsClient, withClient } from './links.js';
import { applyNft } from './nft/apply.js';
import { addPortsText, type PortElement } from './nft/ruleset.js';
import { ensureBridge } from './networks.js';
import { type AttachPlan, macForIp } from './plan.js';
import { flushStale, reclaimDeadLeases, releaseNetworkResource, STALE_BATCH } from './release.js';
import type { NetworkResource } from './resources.js';
import { netlinkTrace } from './trace.js';

export interface Attached {
  resources: NetworkResource[];
  ip: string;
  mac: string;
  gateway: string;
  ports: PortElement[];
}

/** Host ports: each checked free (or chosen) before anything is created. */
async function resolvePorts(plan: AttachPlan): Promise<Omit<PortElement, 'containerIp'>[]> {
  const out: Omit<PortElement, 'containerIp'>[] = [];
  for (const p of plan.ports) {
    const got = await probePort(p.proto, p.hostPort, p.hostIp);
    if (got === 'not-local') {
      throw new TsboxError(`${p.hostIp} is not an address of this host`, { step: 'publish', hint: 'Publish on one of the host\'s addresses, or leave the address out for all of them.' });
    }
    if (got === 'in-use') {
      throw new TsboxError(`host port ${p.hostIp ? `${p.hostIp}:` : ''}${p.hostPort}/${p.proto} is already in use`, { step: 'publish', hint: 'Choose another host port, or stop what listens on it.' });
    }
    out.push({ proto: p.proto, ...(p.hostIp ? { hostIp: p.hostIp } : {}), hostPort: got, containerPort: p.containerPort });
  }
  return out;
}

/**
 * An attachment in two halves. `reserve` takes what must exist before any link does (the
 * lease, so the address is known; the bridge and table), under the network's lock; `wire`
 * makes the links (veth, in-namespace set-up) and publishes the ports. The run calls both
 * while the init sets up its mounts, so their work overlaps the init's instead of adding to
 * the start (container-network.ts `wire`, runtime/run.ts "wire network").
 */
export interface Reserved {
  /** What is held so far; `wire` adds the veth once the kernel made it. Release in reverse. */
  attached: Attached;
  wire(): void;
}

/** `holderPid`: the process whose net namespace `netnsFd` is (the container's init), when there is one. */
export async function attach(ctx: NetContext, plan: AttachPlan, netnsFd: number, ownerPid = process.pid, holderPid?: number): Promise<Attached> {
  const r = await reserve(ctx, plan, netnsFd, ownerPid, holderPid);
  r.wire();
  return r.attached;
}

export async function reserve(ctx: NetContext, plan: AttachPlan, netnsFd: number, ownerPid = process.pid, holderPid?: number): Promise<Reserved> {
  const net = plan.network;
  const ports0 = await resolvePorts(plan);
  const resources: NetworkResource[] = [];
  const undo = () => {
    for (const r of [...resources].reverse()) {
      try {
        releaseNetworkResource(ctx, r);
      } catch {
        // The first error is the one the user needs; a failed undo stays in the lease, reclaimed later.
      }
    }
  };
  const trace = netlinkTrace(ctx.trace);
  const holderStart = holderPid === undefined ? null : processStartTime(holderPid);
  const holder = holderStart === null ? {} : { holder: { pid: holderPid!, startTime: holderStart } };
  let ip = '';
  let ports: PortElement[] = [];
  let bridgeIndex = 0;
  try {
    withNetworkLock(ctx.paths, net.name, () => {
      reclaimDeadLeases(ctx, net.name);
      const taken = takenAddresses(ctx.paths, net.name);
      if (plan.ip !== undefined && taken.has(plan.ip)) throw new TsboxError(`address ${plan.ip} is already in use on network ${net.name}`, { step: 'network', hint: 'Pick another --ip, or leave it out.' });
      // Addresses whose conntrack entries are not flushed yet are skipped while others are free.
      // A full batch of released addresses is flushed here, while the init mounts, rather than
      // in a release, where the user waits for the exit (release.ts freeAddress).
      let stale = staleAddresses(ctx.paths, net.name);
      if (stale.size >= STALE_BATCH) {
        flushStale(ctx, net.name);
        stale = new Set();
      }
      const pick = pickAddress(parseCidr(net.subnet), net.gateway, taken, stale, plan.ip);
      if (!pick) throw new TsboxError(`network ${net.name} has no free address left`, { step: 'network', hint: 'Remove a container from it, or use a network with a larger subnet.' });
      if (pick.flush !== 'none') flushStale(ctx, net.name, pick.flush === 'it' ? pick.ip : undefined);
      ip = pick.ip;
      ports = ports0.map((p) => ({ ...p, containerIp: ip }));
      const lease: Lease = {
        network: net.name, ip, mac: plan.mac ?? macForIp(ip), owner: ownerFor(plan.containerId, ownerPid),
        ports, names: [plan.containerName, ...plan.aliases], hostVeth: plan.hostVeth, created: new Date().toISOString(),
      };
      // bridge-user first, so releasing in reverse frees the lease before the last-user check.
      resources.push({ kind: 'bridge-user', network: net.name, bridge: net.bridge, subnet: net.subnet, leases: ctx.paths.leases, table: ctx.table });
      writeLease(ctx.paths, lease);
      resources.push({ kind: 'lease', network: net.name, ip, containerId: plan.containerId, leases: ctx.paths.leases });
      // Named before they exist, so a record taken now (the run's, before wire) covers them:
      // their removal is idempotent and refuses elements that belong to someone else.
      if (ports.length > 0) resources.push({ kind: 'portmap', table: ctx.table, ports });
      bridgeIndex = ensureBridge(ctx, net);
    });
  } catch (err) {
    undo();
    throw err;
  }
  const mac = plan.mac ?? macForIp(ip);
  let wired = false;
  return {
    attached: { resources, ip, mac, gateway: net.gateway, ports },
    wire() {
      if (wired) return;
      wired = true;
      try {
        const peerIndex = withClient(hostClient(trace), (c) =>
          // Recorded the moment the kernel made it ours: on EEXIST the name belongs to another link,
          // which an undo must not delete. (A crash in between is covered by the lease's hostVeth.)
          // Hairpin only matters to a container that publishes ports (it reaches its own).
          createVethIntoNetns(c, { hostName: plan.hostVeth, masterIndex: bridgeIndex, peerName: plan.peerName, peerNetnsFd: netnsFd, peerMac: mac },
            () => resources.push({ kind: 'veth', hostName: plan.hostVeth, ...holder }), ports.length > 0));
        withClient(netnsClient(netnsFd, trace), (c) => configureInNetns(c, { ifName: plan.peerName, index: peerIndex, ip, prefixLen: plan.prefixLen, gateway: net.gateway }));
        if (ports.length > 0) applyNft(ctx.nft, addPortsText(ctx.table, ports), 'publish ports');
      } catch (err) {
        undo();
        throw err;
      }
    },
  };
}
