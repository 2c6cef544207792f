/**
 * Build time only (warmup.ts): the executors of a warm bridge run's network step, called once
 * so that V8's code cache holds their compiled code too. Measured: the lease's release at an
 * exit cost 0.85 ms of CPU cold against 0.2 ms warm, most of it compiling. The only thing
 * touched is a temporary directory (the lease store: lock, lease, marker), removed at once;
 * the netlink calls go to a stand-in socket that acks every request, and the sysfs reads
 * name a link that does not exist.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetContext } from './context.js';
import { staleAddresses, takenAddresses, withNetworkLock, writeLease } from './ipam/store.js';
import { ownerFor } from './ipam/owner.js';
import { configureInNetns, createVethIntoNetns, peerBytes } from './links.js';
import { reclaimDeadLeases, releaseNetworkResource } from './release.js';
import { RtnlClient, type NetlinkTransport } from './rtnetlink/client.js';
import { parseMessages } from './rtnetlink/parse.js';

/** A socket that answers each request of a datagram with an ack (nlmsghdr, error 0, the request's header). */
function ackingTransport(): NetlinkTransport {
  let answer = Buffer.alloc(0);
  return {
    send(bytes) {
      answer = Buffer.concat(parseMessages(bytes).map((m) => {
        const ack = Buffer.alloc(36);
        ack.writeUInt32LE(36, 0);
        ack.writeUInt16LE(2, 4); // NLMSG_ERROR
        ack.writeUInt32LE(m.seq, 8);
        return ack;
      }));
    },
    recv: () => answer,
    close() {},
  };
}

export function warmUpLeaseStore(network: string, ip: string, mac: string, hostVeth: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsbox-warmup-'));
  try {
    const paths = { networks: join(dir, 'networks'), leases: join(dir, 'leases') };
    const ctx: NetContext = { paths, table: 'tsbox-warmup', nft: { run: () => ({ ok: true, output: '', error: '' }) } };
    const containerId = '0'.repeat(64);
    withNetworkLock(paths, network, () => {
      reclaimDeadLeases(ctx, network);
      takenAddresses(paths, network);
      staleAddresses(paths, network);
      writeLease(paths, { network, ip, mac, owner: ownerFor(containerId), ports: [], names: ['x'], hostVeth, created: new Date().toISOString() });
    });
    const c = new RtnlClient(ackingTransport(), 'warm-up');
    const index = createVethIntoNetns(c, { hostName: `${hostVeth}-none`, masterIndex: 3, peerName: 'eth0', peerNetnsFd: 3, peerMac: mac }, () => {}, false);
    configureInNetns(c, { ifName: 'eth0', index: index ?? 2, ip, prefixLen: 16, gateway: '10.45.0.1' });
    peerBytes(`${hostVeth}-none`);
    for (const r of [
      { kind: 'lease' as const, network, ip, containerId, leases: paths.leases },
      { kind: 'lease' as const, network, ip, containerId, leases: paths.leases }, // the recorded copy: gone already
      { kind: 'bridge-user' as const, network, bridge: network, subnet: '10.45.0.0/16', leases: paths.leases, table: ctx.table },
    ]) releaseNetworkResource(ctx, r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
