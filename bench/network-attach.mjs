// Per-container network set-up latency: tsbox's rtnetlink path (veth with the peer born in
// the namespace, hairpin, lo up, address, eth0 up, default route) against the same with `ip`
// commands. Needs root and a build (npm run build). Prints the medians of N runs.
// Usage: node bench/network-attach.mjs [N=50]
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import * as L from '../dist/network/links.js';

const N = Number(process.argv[2] ?? 50);
const tag = `tsbn${process.pid % 10000}`;
const br = `${tag}br`;
const ns = `${tag}ns`;
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ip = (...args) => execFileSync('ip', args);

const c = L.hostClient();
const { index } = L.createBridge(c, br, '02:00:0a:2d:fd:01', '10.45.253.1/24');
const lib = [];
const cmd = [];
try {
  for (let i = 0; i < N; i++) {
    ip('netns', 'add', ns);
    const fd = openSync(`/run/netns/${ns}`, 'r');
    let t = process.hrtime.bigint();
    L.createVethIntoNetns(c, { hostName: `${tag}v`, masterIndex: index, peerName: 'eth0', peerNetnsFd: fd });
    L.withClient(L.netnsClient(fd), (n) => L.configureInNetns(n, { ifName: 'eth0', ip: '10.45.253.2', prefixLen: 24, gateway: '10.45.253.1' }));
    lib.push(Number(process.hrtime.bigint() - t) / 1e6);
    L.deleteLink(c, `${tag}v`);
    t = process.hrtime.bigint();
    ip('link', 'add', `${tag}w`, 'master', br, 'up', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns);
    ip('link', 'set', `${tag}w`, 'type', 'bridge_slave', 'hairpin', 'on');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', '10.45.253.3/24', 'dev', 'eth1');
    ip('-n', ns, 'link', 'set', 'eth1', 'up');
    ip('-n', ns, 'route', 'replace', 'default', 'via', '10.45.253.1', 'dev', 'eth1');
    cmd.push(Number(process.hrtime.bigint() - t) / 1e6);
    L.deleteLink(c, `${tag}w`);
    closeSync(fd);
    ip('netns', 'del', ns);
  }
} finally {
  L.deleteLink(c, br);
  c.close();
}
console.log(`attach (veth+hairpin+lo+addr+up+route), median of ${N}: rtnetlink ${median(lib).toFixed(2)} ms, ip commands ${median(cmd).toFixed(2)} ms`);
