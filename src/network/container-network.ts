/**
 * "Give this container its network" and "release it", for the run (runtime/run.ts calls
 * one step of each). The flags were checked before (container-network-config.ts, at spec
 * time, before anything exists); connectContainer walks the library (plan, attach) and
 * returns the resource records plus the container's generated /etc/resolv.conf and
 * /etc/hosts; releaseContainerNetwork releases records in reverse, idempotently, so gc can
 * call it for a killed run's records too.
 */
import { TsboxError } from '../errors.js';
import { writeFileSync } from 'node:fs';
import { type Reserved, reserve } from './attach.js';
import type { ContainerNetworkConfig } from './container-network-config.js';
import type { NetContext } from './context.js';
import { listNetworks, readLeases, type NetworkDef } from './ipam/store.js';
import { ownerAlive } from './ipam/owner.js';
import type { PortSpec } from './ports.js';
import { ensureNetwork } from './networks.js';
import { planAttachment } from './plan.js';
import type { PortElement } from './nft/ruleset.js';
import { releaseNetworkResource } from './release.js';
import { closeFd, linkStats, openNetns, peerBytes } from './links.js';
import { offerNameService } from './name-service.js';
import type { NetworkResource } from './resources.js';
import { containerHosts, containerResolv, upstreamNameservers } from './resolv.js';

export interface ContainerIdentity {
  id: string;
  /** The name other containers on a user network call it by: its --name, else its short id. */
  name: string;
  hostname: string;
}

export interface ContainerNetwork {
  /** In acquisition order; release in reverse (releaseContainerNetwork does). Empty until `wire` took the lease. */
  readonly resources: NetworkResource[];
  /** The container's address: null until `wire` took the lease (and for none, host, container:). */
  readonly ip: string | null;
  gateway: string | null;
  readonly ports: PortElement[];
  network: NetworkDef | null;
  /**
   * The /etc files to write before the plan is sent. On a bridge, `hosts` does not name the
   * container's address yet: `wire` rewrites it in place once the lease is taken (the init
   * bind-mounts the file, so the command, which starts after `wire`, sees the final one).
   */
  etc: { hosts: string; resolvConf: string };
  /**
   * Take the address and make the links (attach.ts reserve/wire), while the init mounts:
   * called once, after the plan is sent and before the container's command may start.
   * `record` stores the records before any link exists; `hostsFile` is rewritten with the address.
   */
  wire(opts?: WireOptions): Promise<void>;
}

export interface WireOptions {
  record?: (resources: NetworkResource[]) => Promise<void>;
  hostsFile?: string;
}

export interface HostResolverFiles {
  /** The host's /etc/resolv.conf (null if missing) and systemd-resolved's upstream file. */
  resolvConf: string | null;
  upstream: string | null;
}

/**
 * The container's network, given the init's netns (`netnsFd`) and the process whose death
 * ends the lease (`ownerPid`: the one that lives as long as the container). For none, host
 * and container: nothing to create, only the /etc files.
 */
export async function connectContainer(ctx: NetContext | null, cfg: ContainerNetworkConfig, who: ContainerIdentity, netnsFd: number | null, ownerPid: number, host: HostResolverFiles, holderPid?: number): Promise<ContainerNetwork> {
  const hostResolv = host.resolvConf ?? '';
  const dnsOpts = { dns: cfg.dns, dnsSearch: cfg.dnsSearch, dnsOptions: cfg.dnsOptions };
  const m = cfg.mode;
  if (m.kind !== 'bridge' || netnsFd === null || ctx === null) {
    const mode = m.kind === 'none' ? 'none' : 'host';
    return {
      resources: [], ip: null, gateway: null, ports: [], network: null, wire: async () => {},
      etc: {
        hosts: containerHosts({ hostname: who.hostname, addHosts: cfg.addHosts }),
        resolvConf: containerResolv(hostResolv, host.upstream, { mode, ...dnsOpts }),
      },
    };
  }
  const def = ensureNetwork(ctx, m.network);
  const plan = planAttachment(def, { id: who.id, name: who.name }, {
    ...(cfg.ip !== undefined ? { ip: cfg.ip } : {}),
    ...(cfg.mac !== undefined ? { mac: cfg.mac } : {}),
    aliases: m.user ? [...new Set([who.hostname, ...cfg.aliases])].filter((a) => a !== who.name) : [],
    ports: cfg.publish,
  });
  checkNotPublished(ctx, plan.ports);
  // A kernel without the bridge module (or nf_tables, hinted where nft fails) cannot do
  // bridge networking at all: say what still works.
  const unsupported = (err: unknown): never => {
    if (err instanceof TsboxError && /EOPNOTSUPP|not supported/i.test(err.message)) err.withHint('This host cannot do bridge networking (no bridge module or nf_tables?); run with --network none.');
    throw err;
  };
  const hosts = (ip?: string) => containerHosts({ hostname: who.hostname, ...(ip !== undefined ? { ip } : {}), aliases: m.user ? cfg.aliases : [], addHosts: cfg.addHosts, hostGateway: def.gateway });
  let reserved: Reserved | null = null;
  let wired = false;
  return {
    get resources() {
      return reserved?.attached.resources ?? [];
    },
    get ip() {
      return reserved?.attached.ip ?? null;
    },
    get ports() {
      return reserved?.attached.ports ?? [];
    },
    gateway: def.gateway,
    network: def,
    async wire(opts = {}) {
      if (wired) return;
      wired = true;
      // The lease (and the bridge and table check) under the network's lock, on disk before
      // any link exists: it names the veth and ports to come, so whatever a SIGKILL leaves,
      // the next attach or gc reclaims from it. The run's record of the same is written
      // meanwhile (on libuv's pool, 1-3 ms), overlapping the links instead of preceding them.
      reserved = await reserve(ctx, plan, netnsFd, ownerPid, holderPid).catch(unsupported);
      const recorded = opts.record ? opts.record(reserved.attached.resources) : Promise.resolve();
      recorded.catch(() => {}); // awaited below, also when the links fail: no write outlives the step
      let failed: { err: unknown } | null = null;
      try {
        // In place (same inode): the init's bind mount of the file shows the new text.
        if (opts.hostsFile) writeFileSync(opts.hostsFile, hosts(reserved.attached.ip));
        reserved.wire();
      } catch (err) {
        failed = { err };
      }
      try {
        await recorded;
      } catch (err) {
        if (!failed) throw err; // else the links' error is the one to tell
      }
      if (failed) unsupported(failed.err);
    },
    etc: {
      hosts: hosts(),
      // A user network's names come from its responder on the gateway (nameServers.ts).
      resolvConf: containerResolv(hostResolv, host.upstream, { mode: 'bridge', ...dnsOpts, ...(m.user ? { nameServer: { address: def.gateway, domain: `${def.name}.tsbox` } } : {}) }),
    },
  };
}

/**
 * A published port holds no socket (a DNAT rule does not bind), so the port probe in attach
 * cannot see another tsbox container's -p: the live leases of every network are asked.
 * 0.0.0.0 (no address) clashes with any address. A race between two runs publishing the same
 * port at once still ends in one error: the second nft element add fails (same map), or both
 * forms coexist with the address-specific one winning for that address.
 */
function checkNotPublished(ctx: NetContext, ports: readonly PortSpec[]): void {
  const wanted = ports.filter((p) => p.hostPort !== 0);
  if (wanted.length === 0) return;
  for (const def of listNetworks(ctx.paths)) {
    for (const lease of readLeases(ctx.paths, def.name)) {
      if (!ownerAlive(lease.owner)) continue;
      for (const held of lease.ports) {
        const clash = wanted.find((p) => p.proto === held.proto && p.hostPort === held.hostPort && (!p.hostIp || !held.hostIp || p.hostIp === held.hostIp));
        if (clash) {
          throw new TsboxError(`host port ${clash.hostIp ? `${clash.hostIp}:` : ''}${clash.hostPort}/${clash.proto} is already published by container ${lease.owner.containerId.slice(0, 12)}`, { step: 'publish', hint: 'Choose another host port, or stop that container.' });
        }
      }
    }
  }
}

/** Release in reverse; every record is tried (the first error is rethrown after the rest). */
export function releaseContainerNetwork(ctx: NetContext, resources: readonly NetworkResource[]): void {
  let first: unknown;
  for (const r of [...resources].reverse()) {
    try {
      releaseNetworkResource(ctx, r);
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

export interface GivenNetwork extends ContainerNetwork {
  /** eth0's bytes so far (null where not measured: none, host, container:); readable after the init exited. */
  bytes(): { rxBytes: number; txBytes: number } | null;
  /**
   * Stop the name service, close the netns fd, release the records in reverse. Idempotent.
   * `initGone`: the container's processes are all gone, so its namespace dies as soon as the
   * fd closes and the kernel removes the veth with it (asynchronously, 8-10 ms later): the
   * synchronous delete (17-25 ms, an RCU grace period) is then skipped. The record stays in
   * the owner record until the run's directory goes, so nothing is lost if that fails.
   */
  release(initGone: boolean): Promise<void>;
}

/**
 * The run's one network step: the init (`initPid`) already lives in its net namespace.
 * Its netns fd stays open until release, so eth0's byte counters can be read after the
 * container exited. On a user network, this process also offers the name service.
 */
export async function giveContainerNetwork(makeCtx: () => NetContext, cfg: ContainerNetworkConfig, who: ContainerIdentity, initPid: number, ownerPid: number, host: HostResolverFiles): Promise<GivenNetwork> {
  // The context loads libnftables (about 1 ms): only a bridge needs it.
  const ctx = cfg.mode.kind === 'bridge' ? makeCtx() : null;
  const fd = ctx ? openNetns(initPid) : null;
  let net: ContainerNetwork;
  try {
    net = await connectContainer(ctx, cfg, who, fd, ownerPid, host, initPid);
  } catch (err) {
    if (fd !== null) closeFd(fd);
    throw err;
  }
  const names = ctx && cfg.mode.kind === 'bridge' && cfg.mode.user && net.network ? offerNameService(ctx, net.network, upstreamNameservers(host.resolvConf ?? '', host.upstream)) : null;
  let released = false;
  // Not a spread: the address, ports and records are getters, filled in by wire.
  return Object.assign(net, {
    bytes: () => {
      if (fd === null) return null;
      // The host end's counters, mirrored (what it sent, eth0 received): two sysfs reads at
      // the exit, instead of a socket made inside the namespace and a lookup (0.5 ms here).
      const veth = net.resources.find((r) => r.kind === 'veth');
      const b = (veth?.kind === 'veth' ? peerBytes(veth.hostName) : null) ?? linkStats(fd, 'eth0');
      return b ? { rxBytes: b.rxBytes, txBytes: b.txBytes } : null;
    },
    async release(initGone: boolean) {
      if (released) return;
      released = true;
      try {
        await names?.stop();
      } finally {
        if (fd !== null) closeFd(fd);
      }
      if (ctx) releaseContainerNetwork(ctx, initGone ? net.resources.filter((r) => r.kind !== 'veth') : net.resources);
    },
  });
}
