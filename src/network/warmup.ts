/**
 * Build time only (cli/code-cache-warmup.ts): the pure part of a default run's network
 * step, called once so that V8's code cache holds its compiled code. Bridge is the default:
 * without this every `tsbox run` compiled the network's schemas, plan, /etc files and
 * netlink message builders and parsers anew. Nothing here touches the system.
 */
import { networkSchema, leaseSchema } from './ipam/store.js';
import { parseCidr, pickAddress } from './ipam/subnet.js';
import { planAttachment, macForIp } from './plan.js';
import { containerHosts, containerResolv } from './resolv.js';
import { networkResourceSchema } from './resources.js';
import * as msg from './rtnetlink/messages.js';
import { parseMessages } from './rtnetlink/parse.js';
import { AckCollector, frameBatch } from './rtnetlink/batch.js';

export function warmUpNetworkPath(): void {
  const def = networkSchema.parse({ name: 'tsbox0', subnet: '10.45.0.0/16', gateway: '10.45.0.1', bridge: 'tsbox0', created: '' });
  const pick = pickAddress(parseCidr(def.subnet), def.gateway, new Set(['10.45.0.2']), new Set(['10.45.0.3']));
  const ip = pick?.ip ?? '10.45.0.4';
  const plan = planAttachment(def, { id: '0'.repeat(64), name: 'x' }, { ports: [] });
  leaseSchema.parse({ network: def.name, ip, mac: macForIp(ip), owner: { containerId: '0'.repeat(64), pid: 1, startTime: '1' }, ports: [], names: ['x'], hostVeth: plan.hostVeth, created: '' });
  for (const r of [
    { kind: 'bridge-user', network: def.name, bridge: def.bridge, subnet: def.subnet, leases: '/run/x', table: 'tsbox' },
    { kind: 'lease', network: def.name, ip, containerId: '0'.repeat(64), leases: '/run/x' },
    { kind: 'veth', hostName: plan.hostVeth, holder: { pid: 1, startTime: '1' } },
  ]) networkResourceSchema.parse(r);
  containerHosts({ hostname: 'x', ip, addHosts: [], hostGateway: def.gateway });
  containerResolv('nameserver 192.0.2.53\nsearch example\n', null, { mode: 'bridge', dns: [], dnsSearch: [], dnsOptions: [] });
  msg.newVeth({ hostName: plan.hostVeth, masterIndex: 3, peerName: 'eth0', peerNetnsFd: 3, peerMac: macForIp(ip) });
  // The in-namespace batch and its acks as the kernel sends them: nlmsghdr (type NLMSG_ERROR) + error 0 + the request's header.
  const { seqs } = frameBatch(msg.insideRequests({ ifName: 'eth0', index: 2, ip, prefixLen: 16, gateway: def.gateway }), 1);
  const acks = new AckCollector(seqs);
  acks.add(parseMessages(Buffer.concat(seqs.map((seq) => {
    const ack = Buffer.alloc(36);
    ack.writeUInt32LE(36, 0);
    ack.writeUInt16LE(2, 4);
    ack.writeUInt32LE(seq, 8);
    return ack;
  }))));
  acks.outcomes();
}
