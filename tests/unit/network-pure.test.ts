import { describe, expect, it } from 'vitest';
import { answerAddresses, buildQuery, decide, parseQuery, RCODE } from '../../src/network/dns/message.js';
import { checkRequestedIp, checkSubnet, lowestFree, parseCidr, pickAddress } from '../../src/network/ipam/subnet.js';
import { startTimeFromStat } from '../../src/network/ipam/owner.js';
import { pickSubnet } from '../../src/network/networks.js';
import { addPortsText, removeNetworkText, removePortsText, tableText } from '../../src/network/nft/ruleset.js';
import { nftErrorLine } from '../../src/network/nft/apply.js';
import { macForIp, planAttachment, vethName } from '../../src/network/plan.js';
import { checkDuplicates, parsePublish } from '../../src/network/ports.js';
import { containerHosts, containerResolv, upstreamNameservers } from '../../src/network/resolv.js';

const net = { name: 'n1', subnet: '10.46.3.0/24', gateway: '10.46.3.1', bridge: 'tsbr1', created: '' };

describe('-p parsing', () => {
  it('reads docker forms', () => {
    expect(parsePublish('8080:80')).toEqual([{ proto: 'tcp', hostPort: 8080, containerPort: 80 }]);
    expect(parsePublish('127.0.0.1:8080:80/udp')).toEqual([{ proto: 'udp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 }]);
    expect(parsePublish('80')).toEqual([{ proto: 'tcp', hostPort: 0, containerPort: 80 }]);
    expect(parsePublish('127.0.0.1::80')).toEqual([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0, containerPort: 80 }]);
    expect(parsePublish('0.0.0.0:9000-9001:80-81').map((p) => [p.hostPort, p.containerPort])).toEqual([[9000, 80], [9001, 81]]);
  });
  it('rejects bad input with one line', () => {
    expect(() => parsePublish('8080:80/sctp')).toThrow('invalid -p "8080:80/sctp": protocol "sctp" is not tcp or udp');
    expect(() => parsePublish('70000:80')).toThrow('outside 1-65535');
    expect(() => parsePublish('9000-9002:80-81')).toThrow('differ in length');
    expect(() => parsePublish('1.2.3:80:80')).toThrow('is not an IPv4 address');
    expect(() => checkDuplicates([...parsePublish('8080:80'), ...parsePublish('127.0.0.1:8080:81')])).toThrow('host port 8080/tcp is published twice');
  });
});

describe('subnets', () => {
  const routes = [{ dst: '0.0.0.0', dstLen: 0 }, { dst: '192.0.2.0', dstLen: 24, dev: 'eth0' }];
  it('checks CIDR, overlap with host routes and other networks, gateway', () => {
    expect(() => parseCidr('10.46.0.1/16')).toThrow('host bits are set');
    expect(() => parseCidr('10.46.0.0/33')).toThrow('invalid subnet "10.46.0.0/33"');
    expect(() => checkSubnet({ subnet: '192.0.0.0/16', routes, networks: [] })).toThrow('overlaps the host route 192.0.2.0/24 on eth0');
    expect(() => checkSubnet({ subnet: '10.46.3.0/25', routes, networks: [net] })).toThrow('overlaps network n1 (10.46.3.0/24)');
    expect(() => checkSubnet({ subnet: '10.47.0.0/24', gateway: '10.47.1.1', routes, networks: [] })).toThrow('gateway 10.47.1.1 is not a host address');
    expect(checkSubnet({ subnet: '10.47.0.0/24', routes, networks: [] }).gateway).toBe('10.47.0.1');
  });
  it('allocates the lowest free address and checks --ip', () => {
    const c = parseCidr('10.46.3.0/29');
    expect(lowestFree(c, '10.46.3.1', new Set())).toBe('10.46.3.2');
    expect(lowestFree(c, '10.46.3.1', new Set(['10.46.3.2', '10.46.3.3']))).toBe('10.46.3.4');
    expect(lowestFree(c, '10.46.3.1', new Set(['2', '3', '4', '5', '6'].map((x) => `10.46.3.${x}`)))).toBeNull();
    expect(() => checkRequestedIp(c, '10.46.3.1', '10.46.3.7')).toThrow('not a host address');
    expect(() => checkRequestedIp(c, '10.46.3.1', '10.46.3.1')).toThrow("is the network's gateway");
  });

  it('picks an address whose conntrack entries are flushed; flushes all stale ones only when nothing else is free', () => {
    const c = parseCidr('10.46.5.0/29'); // .2-.6 for containers, .1 the gateway
    const none = new Set<string>();
    expect(pickAddress(c, '10.46.5.1', none, new Set(['10.46.5.2']))).toEqual({ ip: '10.46.5.3', flush: 'none' });
    expect(pickAddress(c, '10.46.5.1', new Set(['10.46.5.2', '10.46.5.4', '10.46.5.5']), new Set(['10.46.5.3', '10.46.5.6']))).toEqual({ ip: '10.46.5.3', flush: 'all' });
    expect(pickAddress(c, '10.46.5.1', new Set(['10.46.5.2', '10.46.5.3', '10.46.5.4', '10.46.5.5', '10.46.5.6']), none)).toBeNull();
    // --ip: flushed alone when stale; refused (null) when leased.
    expect(pickAddress(c, '10.46.5.1', none, new Set(['10.46.5.4']), '10.46.5.4')).toEqual({ ip: '10.46.5.4', flush: 'it' });
    expect(pickAddress(c, '10.46.5.1', none, none, '10.46.5.4')).toEqual({ ip: '10.46.5.4', flush: 'none' });
    expect(pickAddress(c, '10.46.5.1', new Set(['10.46.5.4']), none, '10.46.5.4')).toBeNull();
  });
  it('picks a pool subnet that collides with nothing', () => {
    expect(pickSubnet([{ dst: '10.46.0.0', dstLen: 24 }], [{ subnet: '10.46.1.0/24' }])).toBe('10.46.2.0/24');
  });
  it('reads a process start time even when its name has spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(startTimeFromStat(`42 (a b) c) ${fields.join(' ')}`)).toBe('22');
  });
});

describe('planner', () => {
  it('names the veth by container id and derives the MAC from the address', () => {
    const p = planAttachment(net, { id: '0123456789abcdef', name: 'web' }, { ports: ['8080:80'], ip: '10.46.3.9' });
    expect(p.hostVeth).toBe('tsb0123456789ab');
    expect(p.ip).toBe('10.46.3.9');
    expect(macForIp('10.46.3.9')).toBe('02:42:0a:2e:03:09');
    expect(vethName('not-hex').length).toBe(15);
    expect(() => planAttachment(net, { id: 'x', name: 'y' }, { mac: '03:00:00:00:00:01' })).toThrow('multicast');
    expect(() => planAttachment(net, { id: 'x', name: 'y' }, { ip: '10.46.4.2' })).toThrow('not a host address of');
  });
});

describe('nft text', () => {
  it('keeps the rules fixed and the variable parts in sets and maps', () => {
    const t = tableText('tsbox');
    expect(t).toContain('ip daddr 127.0.0.0/8 iifname @bridges counter drop');
    expect(t).toContain('ip saddr @subnets oifname != @bridges masquerade');
    expect(t).toContain('iifname . oifname != @same_bridge drop');
    expect(() => tableText('bad name')).toThrow('invalid nft table name');
    const p = { proto: 'tcp' as const, hostPort: 8080, containerIp: '10.45.0.2', containerPort: 80 };
    expect(addPortsText('tsbox', [p, { ...p, hostIp: '127.0.0.1' }])).toBe(
      'create element ip tsbox ports_any { tcp . 8080 : 10.45.0.2 . 80 }\ncreate element ip tsbox ports_ip { 127.0.0.1 . tcp . 8080 : 10.45.0.2 . 80 }\n');
    expect(removePortsText('tsbox', [p])).toBe('add element ip tsbox ports_any { tcp . 8080 : 10.45.0.2 . 80 }\ndelete element ip tsbox ports_any { tcp . 8080 }\n');
    expect(removeNetworkText('tsbox', 'br', '10.45.0.0/16')).toContain('delete element ip tsbox same_bridge { "br" . "br" }');
    expect(nftErrorLine('/dev/stdin:1:1-2: Error: Could not process rule: File exists\ncreate element\n^^^^')).toBe('Could not process rule: File exists');
  });
});

describe('resolv.conf and hosts', () => {
  it('drops loopback nameservers and uses the resolved upstream when only the stub is left', () => {
    expect(containerResolv('nameserver 127.0.0.53\nsearch lan\noptions edns0\n', 'nameserver 192.0.2.53\n', { mode: 'bridge' }))
      .toBe('# Generated by tsbox\nnameserver 192.0.2.53\n');
    expect(containerResolv('nameserver 127.0.0.1\nnameserver 10.255.255.53\nsearch lan\n', null, { mode: 'bridge' }))
      .toBe('# Generated by tsbox\nsearch lan\nnameserver 10.255.255.53\n');
    expect(containerResolv('nameserver 10.1.1.1\n', null, { mode: 'bridge', dns: ['9.9.9.9'], dnsSearch: ['a.example'], dnsOptions: ['ndots:2'] }))
      .toBe('# Generated by tsbox\nsearch a.example\nnameserver 9.9.9.9\noptions ndots:2\n');
    expect(containerResolv('nameserver 10.1.1.1\n', null, { mode: 'none' })).not.toContain('nameserver');
  });
  it('points a user network at its name responder and relays to the usable upstream', () => {
    expect(containerResolv('nameserver 10.1.1.1\nsearch lan\n', null, { mode: 'bridge', nameServer: { address: '10.46.3.1', domain: 'n1.tsbox' } }))
      .toBe('# Generated by tsbox\nsearch n1.tsbox lan\nnameserver 10.46.3.1\n');
    expect(upstreamNameservers('nameserver 127.0.0.53\n', 'nameserver 192.0.2.53\nnameserver ::1\n')).toEqual(['192.0.2.53']);
    expect(upstreamNameservers('nameserver 10.255.255.53\n', null)).toEqual(['10.255.255.53']);
  });
  it('writes the container name, aliases and --add-host with host-gateway', () => {
    const h = containerHosts({ hostname: 'web', ip: '10.45.0.2', aliases: ['www'], addHosts: ['db:10.45.0.9', 'host.docker.internal:host-gateway'], hostGateway: '10.45.0.1' });
    expect(h).toContain('10.45.0.9\tdb\n');
    expect(h).toContain('10.45.0.1\thost.docker.internal\n');
    expect(h).toContain('10.45.0.2\tweb www\n');
    expect(() => containerHosts({ hostname: 'x', addHosts: ['h:host-gateway'] })).toThrow('needs a network with a gateway');
  });
});

describe('DNS responder decisions', () => {
  const names = new Map([['db', ['10.46.3.5']]]);
  it('answers a container name, with or without the network domain', () => {
    for (const n of ['db', 'DB.n1.tsbox']) {
      const d = decide(buildQuery(0x1234, n), names, 'n1.tsbox');
      expect(d.kind).toBe('answer');
      if (d.kind !== 'answer') return;
      expect(parseQuery(d.bytes).id).toBe(0x1234);
      expect(answerAddresses(d.bytes)).toEqual({ rcode: RCODE.NOERROR, addresses: ['10.46.3.5'] });
    }
  });
  it('says NXDOMAIN inside the domain, forwards the rest and garbage', () => {
    const d = decide(buildQuery(1, 'nope.n1.tsbox'), names, 'n1.tsbox');
    expect(d.kind === 'answer' && answerAddresses(d.bytes).rcode).toBe(RCODE.NXDOMAIN);
    expect(decide(buildQuery(2, 'example.org'), names, 'n1.tsbox').kind).toBe('forward');
    expect(decide(Buffer.from([1, 2, 3]), names, 'n1.tsbox').kind).toBe('forward');
    const loop = Buffer.concat([buildQuery(3, 'x').subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => parseQuery(loop)).toThrow('too many labels or pointers');
  });
});

describe('host firewall detection', () => {
  it('finds forward chains with a drop policy in other tables only', async () => {
    const { forwardDropChains, firewallWarning } = await import('../../src/network/nft/firewall.js');
    const listing = [
      'table ip filter {', '\tchain FORWARD {', '\t\ttype filter hook forward priority filter; policy drop;', '\t}', '}',
      'table inet fw {', '\tchain fwd {', '\t\ttype filter hook forward priority 0; policy accept;', '\t}', '}',
      'table ip tsbox {', '\tchain forward {', '\t\ttype filter hook forward priority filter; policy drop;', '\t}', '}',
      'table bridge b {', '\tchain f {', '\t\ttype filter hook forward priority 0; policy drop;', '\t}', '}',
    ].join('\n');
    const found = forwardDropChains(listing, 'tsbox');
    expect(found).toEqual([{ family: 'ip', table: 'filter', chain: 'FORWARD' }]);
    expect(firewallWarning(found[0]!, 'tsbox0')).toContain('nft insert rule ip filter FORWARD iifname "tsbox0" accept');
  });
});
