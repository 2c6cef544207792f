/**
 * src/network on real kernel objects: a bridge and veths built by the library into network
 * namespaces this test creates, real TCP, NAT out to the package registry, published ports,
 * hairpin, the route_localnet guard, isolation between networks, lease reclaim after SIGKILL,
 * and nothing left behind. Names carry the "tsbt" prefix and this process's pid.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attach, type Attached } from '../../src/network/attach.js';
import { netContext, type NetContext } from '../../src/network/context.js';
import { describeTrace } from '../../src/network/trace.js';
import { applyNft } from '../../src/network/nft/apply.js';
import { addPortsText, GUARD_RULE, removePortsText, tableText } from '../../src/network/nft/ruleset.js';
import { linkStats, netnsClient } from '../../src/network/links.js';
import { newAddr, newBridge } from '../../src/network/rtnetlink/messages.js';
import { conntrackEntries } from '../../src/network/conntrack/flush.js';
import { involves } from '../../src/network/conntrack/messages.js';
import { namesFromLeases, startNameServer } from '../../src/network/dns/responder.js';
import { upstreamNameservers } from '../../src/network/resolv.js';
import { createNetwork, ensureNetwork, hostRoutes, removeNetwork } from '../../src/network/networks.js';
import { readNetwork } from '../../src/network/ipam/store.js';
import { planAttachment } from '../../src/network/plan.js';
import { releaseNetworkResource } from '../../src/network/release.js';
import type { NetworkDef } from '../../src/network/ipam/store.js';

const PROBE = fileURLToPath(new URL('../helpers/net-probe.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/net-attach-child.mjs', import.meta.url));
/** The child attaches through the build (npm run build), as tsbox itself would. */
const DIST = fileURLToPath(new URL('../../dist', import.meta.url));
const tag = String(process.pid % 100000);
const table = `tsbt${tag}`;
// Root is the one precondition: ip, nft and busybox come from tests/setup.sh, and a missing one fails.
const canRun = process.getuid?.() === 0;

const netnsNames: string[] = [];
const fds: number[] = [];
const children: ChildProcess[] = [];
let ctx: NetContext;
let dir: string;
const attached: Attached[] = [];
/** What --debug would print: every netlink message and nft change, in order. */
const traced: string[] = [];

function netns(name: string): number {
  const full = `tsbt${tag}${name}`;
  execFileSync('ip', ['netns', 'add', full]);
  netnsNames.push(full);
  const fd = openSync(`/run/netns/${full}`, 'r');
  fds.push(fd);
  return fd;
}
const nsName = (name: string) => `tsbt${tag}${name}`;

function inNs(name: string, args: string[]) {
  return spawnSync('ip', ['netns', 'exec', nsName(name), ...args], { encoding: 'utf8', timeout: 20_000 });
}

/** A TCP server in a namespace that answers with `text`; resolves once it listens. */
async function serve(name: string, port: number, text: string, mode = 'serve'): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', nsName(name), process.execPath, PROBE, mode, String(port), text], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`server in ${name} exited ${code}`)));
  });
}

/** Like inNs, without blocking this process's event loop (the name responder runs in it). */
function inNsAsync(name: string, args: string[]): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', nsName(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (status) => resolve({ stdout, stderr, status }));
  });
}

function getFrom(name: string | null, host: string, port: number): string {
  const r = name === null
    ? spawnSync(process.execPath, [PROBE, 'get', host, String(port)], { encoding: 'utf8', timeout: 20_000 })
    : inNs(name, [process.execPath, PROBE, 'get', host, String(port)]);
  return r.status === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim()}`;
}

function hostAddress(): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (name === 'lo' || name.startsWith('tsb')) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('no host address');
}

/** A container id whose first 12 characters (the veth name) are unique to this run. */
const cid = (c: string) => `${c.repeat(6)}${tag.padStart(6, '0')}`;
const links = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });

describe.skipIf(!canRun)('network library on real namespaces', () => {
  let netA: NetworkDef;
  let netB: NetworkDef;
  let fdA: number;
  let fdB: number;
  let fdC: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsbt-net-'));
    ctx = netContext({ paths: { networks: join(dir, 'networks'), leases: join(dir, 'leases') }, table, trace: (e) => traced.push(describeTrace(e)) });
    // Two /24s far from everything else on the host; the overlap check reads the real routes.
    netA = createNetwork(ctx, { name: `tsbt${tag}a`, subnet: '10.44.251.0/24', bridge: `tsbt${tag}a` });
    netB = createNetwork(ctx, { name: `tsbt${tag}b`, subnet: '10.44.252.0/24', bridge: `tsbt${tag}b` });
    fdA = netns('a');
    fdB = netns('b');
    fdC = netns('c');
  });

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const a of [...attached].reverse()) for (const r of [...a.resources].reverse()) {
      try { releaseNetworkResource(ctx, r); } catch { /* reported by the leak assertions */ }
    }
    for (const fd of fds) closeSync(fd);
    for (const n of netnsNames) spawnSync('ip', ['netns', 'del', n]);
    spawnSync('nft', ['delete', 'table', 'ip', table]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a subnet that overlaps a real host route, an invalid CIDR and an unknown network, creating nothing', () => {
    const route = hostRoutes(ctx).find((r) => r.dstLen > 0 && r.dstLen <= 30 && !r.dev?.startsWith('tsb'));
    expect(route, 'the host has a non-default route').toBeDefined();
    expect(() => createNetwork(ctx, { name: `tsbt${tag}x`, subnet: `${route!.dst}/${route!.dstLen}` }))
      .toThrow(`subnet ${route!.dst}/${route!.dstLen} overlaps the host route ${route!.dst}/${route!.dstLen}${route!.dev ? ` on ${route!.dev}` : ''}`);
    expect(() => createNetwork(ctx, { name: `tsbt${tag}x`, subnet: '10.45.300.0/24' })).toThrow('invalid subnet "10.45.300.0/24"');
    expect(() => ensureNetwork(ctx, `tsbt${tag}nope`)).toThrow(`network tsbt${tag}nope does not exist`);
    expect(readdirSync(join(dir, 'networks')).sort()).toEqual([`${netA.name}.json`, `${netB.name}.json`]);
  });

  it("turns the kernel's extended ack into one line saying what failed", () => {
    const c = netnsClient(fdC);
    try {
      expect(() => c.do(newAddr(1, '10.44.251.9', 33, 'lo'))).toThrow('add address 10.44.251.9/33 to lo: EINVAL (invalid argument): kernel says "ipv4: Invalid prefix length"');
      const bogus = { ...newBridge('tsbtbogus', '02:00:00:00:00:01'), what: 'create link tsbtbogus of kind nosuchkind' };
      bogus.body = Buffer.from(bogus.body.toString('latin1').replace('bridge', 'nosuch'), 'latin1');
      expect(() => c.do(bogus)).toThrow(/^create link tsbtbogus of kind nosuchkind: EOPNOTSUPP \(operation not supported\): kernel says "Unknown device type"$/);
    } finally {
      c.close();
    }
  });

  it('attaches two containers to one bridge; they talk over TCP, the gateway answers ping', async () => {
    const a = await attach(ctx, planAttachment(netA, { id: cid('a'), name: 'a' }, { ports: ['8080', '5300/udp'] }), fdA);
    attached.push(a);
    const b = await attach(ctx, planAttachment(netA, { id: cid('b'), name: 'b' }, { ip: '10.44.251.77' }), fdB);
    attached.push(b);
    expect(a.ip).toBe('10.44.251.2');
    expect(b.ip).toBe('10.44.251.77');
    expect(a.resources.map((r) => r.kind)).toEqual(['bridge-user', 'lease', 'portmap', 'veth']);
    const vethLine = traced.findIndex((l) => l.startsWith(`netlink: create veth tsb${cid('a').slice(0, 12)} on bridge #`) && l.includes('with peer eth0 (mac 02:42:0a:2c:fb:02) inside netns fd') && l.endsWith('ok'));
    expect(vethLine).toBeGreaterThan(-1);
    expect(traced.slice(vethLine)).toContainEqual(expect.stringMatching(/^netlink: add default route via 10\.44\.251\.1 dev eth0 \[RTM_NEWROUTE NLM_F_REQUEST\|NLM_F_ACK\|NLM_F_EXCL\|NLM_F_CREATE, netns fd \d+, 4 of 4 in one send, \d+ bytes\] ok$/));
    expect(traced).toContainEqual(expect.stringMatching(new RegExp(`^nft: create element ip ${table} ports_any \\{ tcp \\. \\d+ : 10\\.44\\.251\\.2 \\. 8080 \\}; create element ip ${table} ports_any \\{ udp \\. \\d+ : 10\\.44\\.251\\.2 \\. 5300 \\} \\[libnftables\\] ok$`)));
    expect(inNs('a', ['ip', '-o', '-4', 'addr', 'show', 'eth0']).stdout).toContain('10.44.251.2/24');
    expect(inNs('a', ['ip', 'route']).stdout).toContain('default via 10.44.251.1 dev eth0');
    expect(inNs('b', ['busybox', 'ping', '-c', '1', '-W', '3', '10.44.251.1']).status).toBe(0);
    await serve('a', 8080, 'hello from a');
    await serve('a', 5300, 'udp from a', 'userve');
    expect(getFrom('b', a.ip, 8080)).toBe('hello from a');
    const stats = linkStats(fdA, 'eth0');
    expect(stats!.rxBytes).toBeGreaterThan(0);
    expect(stats!.txBytes).toBeGreaterThan(0);
  });

  it('publishes a port on the host address and 127.0.0.1, to other containers and to itself (hairpin)', () => {
    const hostPort = attached[0]!.ports[0]!.hostPort;
    expect(hostPort).toBeGreaterThan(0);
    expect(getFrom(null, '127.0.0.1', hostPort)).toBe('hello from a');
    expect(getFrom(null, hostAddress(), hostPort)).toBe('hello from a');
    expect(getFrom('b', hostAddress(), hostPort)).toBe('hello from a');
    expect(getFrom('a', hostAddress(), hostPort)).toBe('hello from a');
    const udpPort = attached[0]!.ports[1]!.hostPort;
    expect(attached[0]!.ports[1]!.proto).toBe('udp');
    for (const host of ['127.0.0.1', hostAddress()]) {
      const r = spawnSync(process.execPath, [PROBE, 'uget', host, String(udpPort)], { encoding: 'utf8', timeout: 20_000 });
      expect(r.stdout.trim(), `udp via ${host}`).toBe('udp from a');
    }
    expect(inNs('b', [process.execPath, PROBE, 'uget', hostAddress(), String(udpPort)]).stdout.trim()).toBe('udp from a');
  });

  it('refuses a host port already in use before creating anything', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', () => r()));
    const port = (server.address() as { port: number }).port;
    const before = links();
    await expect(attach(ctx, planAttachment(netA, { id: cid('d'), name: 'd' }, { ports: [`${port}:80`] }), fdC)).rejects.toThrow(`host port ${port}/tcp is already in use`);
    server.close();
    await expect(attach(ctx, planAttachment(netA, { id: cid('d'), name: 'd' }, { ports: ['192.0.2.254:8080:80'] }), fdC)).rejects.toThrow('192.0.2.254 is not an address of this host');
    expect(links()).toBe(before);
    expect(readdirSync(join(dir, 'leases', netA.name)).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('a failed attach undoes only its own work: a clashing veth name stays with its owner', async () => {
    const leasesBefore = readdirSync(join(dir, 'leases', netA.name)).filter((f) => f.endsWith('.json')).sort();
    // Same container id as a: the kernel refuses the veth name (EEXIST).
    await expect(attach(ctx, planAttachment(netA, { id: cid('a'), name: 'a2' }), fdC)).rejects.toThrow(/create veth tsb.*EEXIST \(file exists\)/);
    expect(links()).toContain(`tsb${cid('a').slice(0, 12)}`);
    expect(readdirSync(join(dir, 'leases', netA.name)).filter((f) => f.endsWith('.json')).sort()).toEqual(leasesBefore);
    expect(getFrom('b', attached[0]!.ip, 8080)).toBe('hello from a');
  });

  it('reaches the package registry through NAT and the host resolver', () => {
    const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
    const r = inNs('b', [process.execPath, PROBE, 'fetch', registry]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('200');
  });

  it('answers container names on the gateway and relays other names to the host resolver', async () => {
    const upstream = upstreamNameservers(readFileSync('/etc/resolv.conf', 'utf8'), null);
    const ns = await startNameServer({
      address: netA.gateway, domain: `${netA.name}.tsbox`, names: () => namesFromLeases(ctx.paths, netA.name), upstream,
    });
    try {
      const lookup = (name: string) => inNsAsync('b', ['busybox', 'nslookup', name, netA.gateway]);
      expect((await lookup('a')).stdout).toContain(`Address: ${attached[0]!.ip}\n`);
      expect((await lookup(`b.${netA.name}.tsbox`)).stdout).toContain(`Address: ${attached[1]!.ip}\n`);
      const nope = await lookup(`nope.${netA.name}.tsbox`);
      expect(nope.stdout + nope.stderr).toMatch(/NXDOMAIN/);
      const registry = new URL(execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim()).hostname;
      expect((await lookup(registry)).stdout).toMatch(/Address: \d+\.\d+\.\d+\.\d+/);
    } finally {
      await ns.close();
    }
    // Relaying over both transports, to an upstream of the test's own (this machine's resolver
    // does not serve TCP): another responder on 127.0.0.2 that knows one name.
    const up = await startNameServer({ address: '127.0.0.2', port: 53, domain: 'up.test', names: () => new Map([['upstream-only', ['192.0.2.99']]]), upstream: [] });
    const ns2 = await startNameServer({
      address: netA.gateway, domain: `${netA.name}.tsbox`, names: () => namesFromLeases(ctx.paths, netA.name), upstream: ['127.0.0.2'],
    });
    try {
      expect((await inNsAsync('b', ['busybox', 'nslookup', 'upstream-only', netA.gateway])).stdout).toContain('Address: 192.0.2.99\n');
      // TCP (what a resolver does after a truncated UDP answer): a local name, then a relayed one.
      for (const [name, want] of [['a', attached[0]!.ip], ['upstream-only', '192.0.2.99']] as const) {
        const r = await inNsAsync('b', [process.execPath, PROBE, 'dnstcp', netA.gateway, name]);
        expect(r.stderr).toBe('');
        expect(r.stdout.trim()).toBe(want);
      }
    } finally {
      await ns2.close();
      await up.close();
    }
  });

  it('a container cannot reach a service bound to the host 127.0.0.1 (route_localnet guard)', async () => {
    const server = createServer((s) => s.end('host secret\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    // A loopback-only UDP service (a stub resolver, statsd) acts on one datagram: no answer needed.
    const got: string[] = [];
    const udp = createSocket('udp4').on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const udpPort = udp.address().port;
    // A marker sent after the attack, on the same path, to an address the container may reach:
    // once it has arrived, the attack datagram would have too.
    const marker = createSocket('udp4').on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => marker.bind(0, netA.gateway, () => r()));
    const until = async (what: string) => { while (!got.includes(what)) await new Promise((r) => setTimeout(r, 20)); };
    // The attacker (root in its namespace) routes 127.0.0.1 to the gateway instead of its lo.
    for (const cmd of [
      ['sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1', 'net.ipv4.conf.eth0.route_localnet=1'],
      ['ip', 'route', 'del', 'local', '127.0.0.1', 'table', 'local'],
      ['ip', 'route', 'del', 'local', '127.0.0.0/8', 'table', 'local'],
      ['ip', 'route', 'add', '127.0.0.1/32', 'via', netA.gateway, 'dev', 'eth0', 'src', attached[1]!.ip],
    ]) expect(inNs('b', cmd).status, cmd.join(' ')).toBe(0);
    const attack = (text: string) => expect(inNs('b', [process.execPath, PROBE, 'udp', '127.0.0.1', String(udpPort), text]).status).toBe(0);
    const mark = (text: string) => expect(inNs('b', [process.execPath, PROBE, 'udp', netA.gateway, String(marker.address().port), text]).status).toBe(0);
    try {
      expect(getFrom('b', '127.0.0.1', port)).toMatch(/^failed/);
      attack('attack 1');
      mark('marker 1');
      await until('marker 1');
      expect(got).not.toContain('attack 1');
      const guard = execFileSync('nft', ['list', 'chain', 'ip', table, 'guard'], { encoding: 'utf8' });
      expect(Number(/counter packets (\d+)/.exec(guard)?.[1] ?? 0)).toBeGreaterThan(0);
      // Control: without the guard the same datagram reaches the host's loopback service,
      // so the checks above can fail.
      execFileSync('nft', ['flush', 'chain', 'ip', table, 'guard']);
      attack('attack 2');
      await until('attack 2');
    } finally {
      execFileSync('nft', ['add', 'rule', 'ip', table, 'guard', ...GUARD_RULE.split(' ')]);
      server.close();
      udp.close();
      marker.close();
    }
  });

  it('isolates networks: a container on another bridge cannot reach them, but the outside can', async () => {
    const c = await attach(ctx, planAttachment(netB, { id: cid('c'), name: 'c' }), fdC);
    attached.push(c);
    expect(c.ip).toBe('10.44.252.2');
    expect(inNs('c', ['busybox', 'ping', '-c', '1', '-W', '3', netB.gateway]).status).toBe(0);
    expect(getFrom('c', attached[0]!.ip, 8080)).toMatch(/^failed/);
    expect(getFrom('b', attached[0]!.ip, 8080)).toBe('hello from a');
  });

  it('reclaims the lease, veth and ports of a SIGKILLed owner', async () => {
    const owner = spawn('sleep', ['600']);
    const fdD = netns('d');
    const d = await attach(ctx, planAttachment(netA, { id: cid('e'), name: 'd' }, { ip: '10.44.251.90', ports: ['8081'] }), fdD, owner.pid);
    const dPort = d.ports[0]!.hostPort;
    expect(execFileSync('nft', ['list', 'map', 'ip', table, 'ports_any'], { encoding: 'utf8' })).toContain(`${dPort} : 10.44.251.90`);
    owner.kill('SIGKILL');
    await new Promise((r) => owner.once('exit', r));
    const fdE = netns('e');
    // The same address again: taken until the owner died, reclaimed now.
    const e = await attach(ctx, planAttachment(netA, { id: cid('f'), name: 'e' }, { ip: '10.44.251.90' }), fdE);
    attached.push(e);
    expect(e.ip).toBe('10.44.251.90');
    expect(execFileSync('nft', ['list', 'map', 'ip', table, 'ports_any'], { encoding: 'utf8' })).not.toContain(`${dPort} :`);
    expect(links()).not.toContain(`tsb${cid('e').slice(0, 12)}`);
  });

  it('recovers from a tsbox SIGKILLed in the middle of an attach', async () => {
    const ctxFile = join(dir, 'ctx.json');
    writeFileSync(ctxFile, JSON.stringify({ paths: ctx.paths, table }));
    const leaseDir = join(dir, 'leases', netA.name);
    // Killed as soon as its lease is on disk (links and rules possibly half made), then once
    // fully attached.
    for (const [i, when] of [[0, 'lease'], [1, 'attached']] as const) {
      const before = new Set(readdirSync(leaseDir));
      netns(`k${i}`);
      const id = cid(`${i}`);
      const child = spawn(process.execPath, [CHILD, DIST, ctxFile, `/run/netns/${nsName(`k${i}`)}`, netA.name, id], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      let lease: string | undefined;
      while (!(lease = readdirSync(leaseDir).find((f) => f.endsWith('.json') && !before.has(f))) || (when === 'attached' && !out.includes('attached'))) {
        await new Promise((r) => setImmediate(r));
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const ip = lease.slice(0, -'.json'.length);
      const next = await attach(ctx, planAttachment(netA, { id: cid(`${i + 5}`), name: `after${i}` }, { ip }), netns(`n${i}`));
      attached.push(next);
      expect(next.ip).toBe(ip);
      expect(links()).not.toContain(`tsb${id.slice(0, 12)}`);
      expect(execFileSync('nft', ['list', 'map', 'ip', table, 'ports_any'], { encoding: 'utf8' })).not.toContain(`: ${ip} . 80`);
    }
  });

  it('refuses to remove a network with live containers', () => {
    expect(() => removeNetwork(ctx, netA.name)).toThrow(new RegExp(`^network ${netA.name} has \\d+ containers attached \\(`));
    expect(readNetwork(ctx.paths, netA.name)).not.toBeNull();
  });

  it('releases everything, idempotently, also after the namespaces are gone', async () => {
    // A UDP flow from b leaves a conntrack entry on the host (unanswered: 30 s before it expires).
    const bIp = attached[1]!.ip;
    expect(inNs('b', [process.execPath, PROBE, 'udp', netA.gateway, '9', 'flow']).status).toBe(0);
    expect(conntrackEntries().some((e) => involves(e, bIp))).toBe(true);
    for (const n of netnsNames) spawnSync('ip', ['netns', 'del', n]);
    for (const a of [...attached].reverse()) for (const r of [...a.resources].reverse()) {
      releaseNetworkResource(ctx, r);
      releaseNetworkResource(ctx, r);
    }
    attached.length = 0;
    const l = links();
    expect(l).not.toContain(`tsbt${tag}a`);
    expect(l).not.toContain(`tsbt${tag}b`);
    for (const c of ['a', 'b', 'c', 'e', 'f', '0', '1', '5', '6']) expect(l).not.toContain(`tsb${cid(c).slice(0, 12)}`);
    expect(existsSync(join(dir, 'leases', netA.name))).toBe(false);
    // The released address keeps no NAT state for its next owner.
    expect(conntrackEntries().some((e) => involves(e, bIp))).toBe(false);
    // network rm: the definitions go; the bridges are already gone.
    removeNetwork(ctx, netA.name);
    removeNetwork(ctx, netB.name);
    expect(readdirSync(join(dir, 'networks'))).toEqual([]);
    // The last network took tsbox's table with it.
    expect(spawnSync('nft', ['list', 'table', 'ip', table], { encoding: 'utf8' }).status).not.toBe(0);
    // A killed run's port record released after that (gc, once its bridge's last user went): nothing to do, no error.
    expect(() => releaseNetworkResource(ctx, { kind: 'portmap', table, ports: [{ proto: 'tcp', hostPort: 18081, containerIp: '10.44.251.90', containerPort: 80 }] })).not.toThrow();
  });
});

describe.skipIf(!canRun)('conntrack of a released address', () => {
  it('is kept while nobody can own the address, and flushed before its next owner gets it', async () => {
    const d = mkdtempSync(join(tmpdir(), 'tsbt-ct-'));
    const t = `tsbt${tag}k`;
    const c = netContext({ paths: { networks: join(d, 'networks'), leases: join(d, 'leases') }, table: t });
    const net = createNetwork(c, { name: t, subnet: '10.44.250.0/29', bridge: t });
    const leaseDir = join(d, 'leases', net.name);
    const held: Attached[] = [];
    const mine: number[] = [];
    const on = async (name: string, id: string, ip?: string) => {
      const fd = netns(name);
      mine.push(fd);
      const a = await attach(c, planAttachment(net, { id: cid(id), name }, ip ? { ip } : {}), fd);
      held.push(a);
      return a;
    };
    try {
      await on('ct0', '7'); // keeps the bridge up, as the default network's stays
      const first = await on('ct1', '8');
      expect(first.ip).toBe('10.44.250.3');
      // An unanswered UDP flow to the gateway: a host conntrack entry for 30 s.
      expect(inNs('ct1', [process.execPath, PROBE, 'udp', net.gateway, '9', 'flow']).status).toBe(0);
      expect(conntrackEntries().some((e) => involves(e, first.ip))).toBe(true);
      for (const r of [...first.resources].reverse()) releaseNetworkResource(c, r);
      held.splice(held.indexOf(first), 1);
      // Released without the dump (it published no port): the address is marked, its entry stays.
      expect(readdirSync(leaseDir)).toContain('10.44.250.3.conntrack');
      expect(readdirSync(leaseDir)).not.toContain('10.44.250.3.json');
      expect(conntrackEntries().some((e) => involves(e, first.ip))).toBe(true);
      // The next container skips the marked address...
      expect((await on('ct2', '9')).ip).toBe('10.44.250.4');
      // ...and one that asks for it gets it only after its entries went.
      const again = await on('ct3', 'a', '10.44.250.3');
      expect(again.ip).toBe('10.44.250.3');
      expect(conntrackEntries().some((e) => involves(e, again.ip))).toBe(false);
      expect(readdirSync(leaseDir)).not.toContain('10.44.250.3.conntrack');
    } finally {
      tearDownLeaseTest({ c, held, network: net.name, table: t, dir: d, fds: mine, namespaces: ['ct0', 'ct1', 'ct2', 'ct3'] });
    }
    expect(links()).not.toContain(t);
  });
});

/** The end of a lease test: its attachments (newest first, each resource in reverse), network, nft table, state dir, netns fds and namespaces. */
function tearDownLeaseTest(t: { c: NetContext; held: Attached[]; network: string; table: string; dir: string; fds: number[]; namespaces: string[] }): void {
  for (const a of t.held.reverse()) for (const r of [...a.resources].reverse()) releaseNetworkResource(t.c, r);
  removeNetwork(t.c, t.network);
  spawnSync('nft', ['delete', 'table', 'ip', t.table]);
  rmSync(t.dir, { recursive: true, force: true });
  for (const fd of t.fds) closeSync(fd);
  for (const n of t.namespaces) spawnSync('ip', ['netns', 'del', nsName(n)]);
}

describe.skipIf(!canRun)('a full batch of stale addresses', () => {
  it('is flushed by the next attach, while its init mounts, not by a release the user waits for', async () => {
    const { STALE_BATCH } = await import('../../src/network/release.js');
    const d = mkdtempSync(join(tmpdir(), 'tsbt-sb-'));
    const t = `tsbt${tag}s`;
    const c = netContext({ paths: { networks: join(d, 'networks'), leases: join(d, 'leases') }, table: t });
    const net = createNetwork(c, { name: t, subnet: '10.44.248.0/24', bridge: t });
    const leaseDir = join(d, 'leases', net.name);
    const markers = () => readdirSync(leaseDir).filter((f) => f.endsWith('.conntrack')).length;
    const held: Attached[] = [];
    const mine: number[] = [];
    const on = async (name: string, id: string) => {
      const fd = netns(name);
      mine.push(fd);
      const a = await attach(c, planAttachment(net, { id: cid(id), name }), fd);
      held.push(a);
      return a;
    };
    try {
      await on('sb0', 'b'); // keeps the bridge up, as the default network's stays
      // One short of a batch: addresses released earlier whose entries were not flushed yet.
      for (let i = 0; i < STALE_BATCH - 1; i++) writeFileSync(join(leaseDir, `10.44.248.${100 + i}.conntrack`), '');
      const first = await on('sb1', 'c');
      for (const r of [...first.resources].reverse()) releaseNetworkResource(c, r);
      held.splice(held.indexOf(first), 1);
      // The release made the batch full and left it so: no conntrack dump at an exit.
      expect(markers()).toBe(STALE_BATCH);
      expect(readdirSync(leaseDir)).toContain(`${first.ip}.conntrack`);
      // The next attach flushes all of them, and may take the lowest address again.
      const next = await on('sb2', 'd');
      expect(markers()).toBe(0);
      expect(next.ip).toBe(first.ip);
    } finally {
      tearDownLeaseTest({ c, held, network: net.name, table: t, dir: d, fds: mine, namespaces: ['sb0', 'sb1', 'sb2'] });
    }
    expect(links()).not.toContain(t);
  });
});

describe.skipIf(!canRun)('the veth record of a run', () => {
  it('is deleted while the process holding its namespace lives, and left to the kernel once it is gone', async () => {
    const d = mkdtempSync(join(tmpdir(), 'tsbt-vh-'));
    const t = `tsbt${tag}h`;
    const c = netContext({ paths: { networks: join(d, 'networks'), leases: join(d, 'leases') }, table: t });
    const net = createNetwork(c, { name: t, subnet: '10.44.249.0/29', bridge: t });
    const holder = spawn('sleep', ['600']);
    const mine: number[] = [];
    const held: Attached[] = [];
    try {
      const on = async (name: string, id: string, holderPid: number) => {
        const fd = netns(name);
        mine.push(fd);
        const a = await attach(c, planAttachment(net, { id: cid(id), name }), fd, process.pid, holderPid);
        held.push(a);
        return a.resources.find((r) => r.kind === 'veth')!;
      };
      const alive = await on('vh1', 'b', process.pid);
      expect(alive).toMatchObject({ holder: { pid: process.pid } });
      releaseNetworkResource(c, alive);
      expect(links()).not.toContain(`tsb${cid('b').slice(0, 12)}`);
      const gone = await on('vh2', 'c', holder.pid!);
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
      // Its holder is dead: the release does not delete (this test's bind mount still holds
      // the namespace; in a run, nothing else does, and the kernel removes the veth with it).
      releaseNetworkResource(c, gone);
      expect(links()).toContain(`tsb${cid('c').slice(0, 12)}`);
    } finally {
      holder.kill('SIGKILL');
      for (const fd of mine) closeSync(fd);
      for (const n of ['vh1', 'vh2']) spawnSync('ip', ['netns', 'del', nsName(n)]);
      for (const a of held.reverse()) for (const r of [...a.resources].reverse()) if (r.kind !== 'veth') releaseNetworkResource(c, r);
      // The namespaces are gone: their veths go with them, asynchronously.
      for (let i = 0; i < 200 && links().includes(`tsb${cid('c').slice(0, 12)}`); i++) await new Promise((r) => setTimeout(r, 25));
      removeNetwork(c, net.name);
      spawnSync('nft', ['delete', 'table', 'ip', t]);
      rmSync(d, { recursive: true, force: true });
    }
    expect(links()).not.toContain(`tsb${cid('c').slice(0, 12)}`);
    expect(links()).not.toContain(t);
  });
});

describe.skipIf(!canRun)('nft runners', () => {
  it('libnftables and the nft command apply the same text; removals are idempotent; errors are one line', () => {
    for (const via of ['auto', 'nft'] as const) {
      const t = `tsbt${tag}${via === 'nft' ? 'c' : 'l'}`;
      const c = netContext({ table: t, nft: via });
      try {
        applyNft(c.nft, tableText(t), 'create');
        const p = { proto: 'udp' as const, hostPort: 5353, containerIp: '10.44.251.9', containerPort: 53 };
        applyNft(c.nft, addPortsText(t, [p]), 'publish');
        expect(() => applyNft(c.nft, addPortsText(t, [{ ...p, containerIp: '10.44.251.10' }]), 'publish again')).toThrow(/^publish again: nft: .*File exists$/);
        expect(execFileSync('nft', ['list', 'map', 'ip', t, 'ports_any'], { encoding: 'utf8' })).toContain('udp . 5353 : 10.44.251.9 . 53');
        applyNft(c.nft, removePortsText(t, [p]), 'unpublish');
        applyNft(c.nft, removePortsText(t, [p]), 'unpublish twice');
        expect(execFileSync('nft', ['list', 'map', 'ip', t, 'ports_any'], { encoding: 'utf8' })).not.toContain('5353');
      } finally {
        spawnSync('nft', ['delete', 'table', 'ip', t]);
      }
    }
  });
});
