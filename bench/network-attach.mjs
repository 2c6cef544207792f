// Per-container network set-up latency: tsbox's rtnetlink path (veth with the peer born in
// the namespace, hairpin, lo up, address, eth0 up, default route) against the same with `ip`
// commands. Needs root and a build (npm run build). Prints the medians of N runs.
// Usage: node bench/network-attach.mjs [N=50]
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as L from '../dist/network/links.js';
import { attach } from '../dist/network/attach.js';
import { netContext } from '../dist/network/context.js';
import { createNetwork } from '../dist/network/networks.js';
import { planAttachment } from '../dist/network/plan.js';
import { releaseNetworkResource } from '../dist/network/release.js';

const N = Number(process.argv[2] ?? 50);
const tag = `tsbn${process.pid % 10000}`;
const br = `${tag}br`;
const ns = `${tag}ns`;
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ip = (...args) => execFileSync('ip', args);

const c = L.hostClient();
const { index } = L.createBridge(c, br, '02:00:0a:2c:fd:01', '10.44.253.1/24');
const lib = [];
const cmd = [];
try {
  for (let i = 0; i < N; i++) {
    ip('netns', 'add', ns);
    const fd = openSync(`/run/netns/${ns}`, 'r');
    let t = process.hrtime.bigint();
    L.createVethIntoNetns(c, { hostName: `${tag}v`, masterIndex: index, peerName: 'eth0', peerNetnsFd: fd });
    L.withClient(L.netnsClient(fd), (n) => L.configureInNetns(n, { ifName: 'eth0', ip: '10.44.253.2', prefixLen: 24, gateway: '10.44.253.1' }));
    lib.push(Number(process.hrtime.bigint() - t) / 1e6);
    L.deleteLink(c, `${tag}v`);
    t = process.hrtime.bigint();
    ip('link', 'add', `${tag}w`, 'master', br, 'up', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns);
    ip('link', 'set', `${tag}w`, 'type', 'bridge_slave', 'hairpin', 'on');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', '10.44.253.3/24', 'dev', 'eth1');
    ip('-n', ns, 'link', 'set', 'eth1', 'up');
    ip('-n', ns, 'route', 'replace', 'default', 'via', '10.44.253.1', 'dev', 'eth1');
    cmd.push(Number(process.hrtime.bigint() - t) / 1e6);
    L.deleteLink(c, `${tag}w`);
    closeSync(fd);
    ip('netns', 'del', ns);
  }
} finally {
  L.deleteLink(c, br);
  c.close();
}
// The whole attach(): lease under its flock, bridge check, nft registration, veth, in-netns
// set-up, one published port; then its release.
const dir = mkdtempSync(join(tmpdir(), 'tsbn-'));
const ctx = netContext({ paths: { networks: join(dir, 'n'), leases: join(dir, 'l') }, table: `${tag}t` });
const net = createNetwork(ctx, { name: `${tag}net`, subnet: '10.44.254.0/24', bridge: `${tag}b2` });
const full = [];
const rel = [];
const relKinds = {};
// A first container keeps the bridge and table up, as on a host where containers run: the
// numbers are then one more container's, not the first one's.
ip('netns', 'add', `${ns}k`);
const keepFd = openSync(`/run/netns/${ns}k`, 'r');
const keeper = await attach(ctx, planAttachment(net, { id: 'fedcba000000', name: 'keeper' }), keepFd);
try {
  for (let i = 0; i < N; i++) {
    ip('netns', 'add', ns);
    const fd = openSync(`/run/netns/${ns}`, 'r');
    const plan = planAttachment(net, { id: `abcdef${String(i).padStart(6, '0')}`, name: 'x' }, { ports: ['80'] });
    let t = process.hrtime.bigint();
    const a = await attach(ctx, plan, fd);
    full.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    for (const r of a.resources.reverse()) {
      const t1 = process.hrtime.bigint();
      releaseNetworkResource(ctx, r);
      (relKinds[r.kind] ??= []).push(Number(process.hrtime.bigint() - t1) / 1e6);
    }
    rel.push(Number(process.hrtime.bigint() - t) / 1e6);
    closeSync(fd);
    ip('netns', 'del', ns);
  }
} finally {
  for (const r of keeper.resources.reverse()) releaseNetworkResource(ctx, r);
  closeSync(keepFd);
  ip('netns', 'del', `${ns}k`);
  rmSync(dir, { recursive: true, force: true });
}
console.log(`attach() of one more container (lease, veth, in-netns set-up, a published port), median of ${N}: ${median(full).toFixed(2)} ms; release ${median(rel).toFixed(2)} ms (${Object.entries(relKinds).map(([k, v]) => `${k} ${median(v).toFixed(2)}`).join(', ')})`);
console.log(`attach (veth+hairpin+lo+addr+up+route), median of ${N}: rtnetlink ${median(lib).toFixed(2)} ms, ip commands ${median(cmd).toFixed(2)} ms`);
