/**
 * `tsbox run`'s networking end to end, with real packets: NAT out to the package registry
 * npm is configured for (its host read at test time), published ports from the host's
 * 127.0.0.1 and its own address, names on a user network, isolation between networks,
 * --network host and none, bad input (one line, 125, nothing created) and a SIGKILLed run
 * whose link, lease and port elements the next command reclaims. Networks carry the
 * "tsbt" prefix and this process's pid; every test leaves nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { get } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { rootfsTar, testRoot, tsbox, TSBOX_BIN } from '../helpers/tsbox.js';

const tag = `tsbt${process.pid % 100000}`;
const LEASES = '/run/tsbox-net/leases';
const NETWORKS = '/var/lib/tsbox-net/networks';
const created = { networks: [] as string[], containers: [] as string[] };

async function ok(args: string[]): Promise<string> {
  const r = await tsbox(args);
  expect(r.code, `tsbox ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function network(suffix: string, extra: string[] = []): Promise<string> {
  const name = `${tag}${suffix}`;
  await ok(['network', 'create', ...extra, name]);
  created.networks.push(name);
  return name;
}

async function detached(name: string, args: string[], script: string): Promise<string> {
  const id = (await ok(['run', '-d', '--name', name, ...args, rootfsTar(), 'sh', '-c', script])).trim();
  created.containers.push(name);
  return id;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path: '/index.html', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Polls: a detached server needs a moment to listen; retried, never slept on blindly. */
async function until<T>(fn: () => Promise<T>, what: string, tries = 50): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what}: ${(last as Error)?.message}`);
}

const hostAddress = (): string => Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.4'))!.address;
const links = (): string[] => readdirSync('/sys/class/net');
const leaseFiles = (net: string): string[] => (existsSync(join(LEASES, net)) ? readdirSync(join(LEASES, net)).filter((f) => f.endsWith('.json')) : []);
/** The leases a process owns: an address freed by it may be taken at once by anyone else's container. */
const leasesOwnedBy = (net: string, pid: number): string[] => leaseFiles(net).filter((f) => {
  try {
    return (JSON.parse(readFileSync(join(LEASES, net, f), 'utf8')) as { owner: { pid: number } }).owner.pid === pid;
  } catch {
    return false; // released while read
  }
});
const nftPorts = (): string => {
  try {
    return execFileSync('nft', ['list', 'table', 'ip', 'tsbox'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};
const SERVER = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www';

afterAll(async () => {
  for (const c of created.containers) await tsbox(['rm', '-f', c]);
  for (const n of created.networks) await tsbox(['network', 'rm', n]);
  // Nothing of ours stays: no network definition, lease directory or link of our containers.
  for (const n of created.networks) {
    expect(existsSync(join(NETWORKS, `${n}.json`))).toBe(false);
    expect(existsSync(join(LEASES, n))).toBe(false);
  }
});

describe('tsbox run --network', () => {
  it('bridge: reaches the package registry through NAT (DNS and a TCP connect to :443)', async () => {
    const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
    const host = new URL(registry).hostname;
    const r = await tsbox(['run', '--network', 'bridge', rootfsTar(), 'sh', '-c', `nc -w 10 ${host} 443 </dev/null && echo connected; ip -o -4 addr show eth0`], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/connected/);
    expect(r.stdout).toMatch(/eth0\s+inet 10\.45\./);
  });

  it('-p: a server in the container answers on 127.0.0.1 and on the host\'s own address; port and ps show it', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    await detached(`${tag}web`, ['-p', `127.0.0.1:${p1}:80`, '-p', `${p2}:80`], SERVER);
    expect(await until(() => httpGet('127.0.0.1', p1), 'GET via 127.0.0.1')).toMatch(/^hello from /);
    expect(await until(() => httpGet(hostAddress(), p2), 'GET via the host address')).toMatch(/^hello from /);
    expect(await ok(['port', `${tag}web`])).toContain(`80/tcp -> 127.0.0.1:${p1}`);
    expect(await ok(['ps'])).toContain(`0.0.0.0:${p2}->80/tcp`);
    // A published port holds no socket: the clash with another container's -p is still refused.
    for (const clash of [`${p1}:80`, `127.0.0.1:${p2}:80`]) {
      const r = await tsbox(['run', '-p', clash, rootfsTar(), 'true']);
      expect(r.code).toBe(125);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/is already published by container/);
    }
    // eth0's bytes in tsbox stats: the two requests above went through it.
    expect(await ok(['stats', '--no-stream', `${tag}web`])).toMatch(/NET I\/O[\s\S]*\d+(\.\d)?[KM]?i?B \/ \d+(\.\d)?[KM]?i?B/);
    await ok(['rm', '-f', `${tag}web`]);
    expect(nftPorts()).not.toMatch(new RegExp(`\\b${p1}\\b`));
  });

  it('a user network: containers reach each other by name; one on another network cannot', async () => {
    const a = await network('a');
    const b = await network('b');
    await detached(`${tag}db`, ['--network', a], SERVER);
    const byName = await until(async () => {
      const r = await tsbox(['run', '--network', a, rootfsTar(), 'timeout', '5', 'wget', '-q', '-O', '-', `http://${tag}db/index.html`]);
      if (r.code !== 0) throw new Error(r.stderr);
      return r.stdout;
    }, 'wget by name');
    expect(byName).toMatch(/^hello from /);
    const inspect = JSON.parse(await ok(['network', 'inspect', a])) as { containers: { ip: string }[] }[];
    const ip = inspect[0]!.containers[0]!.ip;
    const other = await tsbox(['run', '--network', b, rootfsTar(), 'sh', '-c', `timeout 3 wget -q -O - http://${ip}/index.html && echo reached; nslookup ${tag}db >/dev/null 2>&1 && echo resolved; echo done`]);
    expect(other.stdout).toBe('done\n');
    // rm is refused while the network has a container, allowed after.
    const refused = await tsbox(['network', 'rm', a]);
    expect(refused.code).toBe(125);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    await ok(['rm', '-f', `${tag}db`]);
    expect(leaseFiles(a)).toEqual([]);
  });

  it('--stats-file: eth0\'s bytes on a bridge, null without a network of its own', async () => {
    const file = join(inject('workDir'), `${tag}-stats.json`);
    // Not ping: the default capabilities have no CAP_NET_RAW, so it sent nothing and the test
    // passed only when the kernel's IPv6 chatter (an MLD report) came before the exit. A
    // refused TCP connect to the gateway always sends and receives (ARP, SYN, RST).
    await ok(['run', '--network', 'bridge', '--stats-file', file, rootfsTar(), 'sh', '-c', 'nc -w 2 10.45.0.1 9 </dev/null 2>/dev/null; true']);
    const bridged = JSON.parse(readFileSync(file, 'utf8')) as { netRxBytes: number | null; netTxBytes: number | null };
    expect(bridged.netTxBytes).toBeGreaterThan(0);
    expect(bridged.netRxBytes).toBeGreaterThan(0);
    await ok(['run', '--network', 'none', '--stats-file', file, rootfsTar(), 'true']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ netRxBytes: null, netTxBytes: null });
  });

  it('host sees the host\'s interfaces; none has only lo and no nameserver', async () => {
    const host = await ok(['run', '--network', 'host', rootfsTar(), 'ls', '/sys/class/net']);
    expect(host.trim().split(/\s+/).sort()).toEqual(links().sort());
    const none = await ok(['run', '--network', 'none', rootfsTar(), 'sh', '-c', 'ls /sys/class/net; grep -c nameserver /etc/resolv.conf || true']);
    expect(none).toBe('lo\n0\n');
  });

  it('bad input: one line, 125, nothing created', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    const hostNet = hostAddress().split('.').slice(0, 3).join('.');
    const cases: [string[], RegExp][] = [
      [['network', 'create', '--subnet', `${hostNet}.0/24`, `${tag}x1`], /overlap/],
      [['network', 'create', '--subnet', '10.46.300.0/24', `${tag}x2`], /invalid|CIDR|subnet/i],
      [['run', '-p', `127.0.0.1:${port}:80`, rootfsTar(), 'true'], new RegExp(`port 127.0.0.1:${port}/tcp is already in use`)],
      [['run', '--network', `${tag}nosuch`, rootfsTar(), 'true'], /does not exist/],
      [['run', '--network', 'none', '-p', '8080:80', rootfsTar(), 'true'], /-p\/--publish cannot be used with --network none/],
    ];
    const before = links();
    const containers = join(testRoot(), 'containers');
    const dirs = () => (existsSync(containers) ? readdirSync(containers) : []);
    const dirsBefore = dirs();
    try {
      for (const [args, message] of cases) {
        const r = await tsbox(args);
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(/^tsbox: /);
        expect(lines[0]).toMatch(message);
        expect(r.code).toBe(125);
      }
    } finally {
      busy.close();
    }
    expect(existsSync(join(NETWORKS, `${tag}x1.json`)) || existsSync(join(NETWORKS, `${tag}x2.json`))).toBe(false);
    expect(existsSync(join(LEASES, `${tag}x1`)) || existsSync(join(LEASES, `${tag}x2`))).toBe(false);
    expect(dirs()).toEqual(dirsBefore);
    expect(links().filter((l) => !before.includes(l) && l.startsWith('tsb'))).toEqual([]);
  });

  it('container:NAME shares a running container\'s network namespace (its loopback too)', async () => {
    await detached(`${tag}side`, ['--network', 'bridge'], SERVER);
    const r = await until(async () => {
      const x = await tsbox(['run', '--network', `container:${tag}side`, rootfsTar(), 'sh', '-c', 'wget -q -O - http://127.0.0.1/index.html; ip -o -4 addr show eth0']);
      if (x.code !== 0) throw new Error(x.stderr);
      return x.stdout;
    }, 'the sidecar reaches the server on 127.0.0.1');
    expect(r).toMatch(/^hello from /);
    expect(r).toMatch(/eth0\s+inet 10\.45\./);
    await ok(['rm', '-f', `${tag}side`]);
  });

  it('the default is bridge; after a normal exit or a failed exec no lease, link or port is left, only the default bridge', async () => {
    const port = await freePort();
    const out = await ok(['run', '-p', `${port}:80`, rootfsTar(), 'sh', '-c', 'ip -o -4 addr show eth0; ip route | grep default']);
    expect(out).toMatch(/eth0\s+inet 10\.45\.\d+\.\d+\/16/);
    expect(out).toMatch(/^default via 10\.45\.0\.1 dev eth0/m);
    const failed = await tsbox(['run', rootfsTar(), 'no-such-command']);
    expect(failed.code, failed.stderr).toBe(127);
    // Nothing of either run: no lease owned by this process's runs, no veth, no port element.
    const mine = leaseFiles('tsbox0').filter((f) => {
      try {
        const l = JSON.parse(readFileSync(join(LEASES, 'tsbox0', f), 'utf8')) as { ports: { hostPort: number }[] };
        return l.ports.some((p) => p.hostPort === port);
      } catch {
        return false;
      }
    });
    expect(mine).toEqual([]);
    expect(nftPorts()).not.toMatch(new RegExp(`\\b${port}\\b`));
    // The default network's bridge and table stay up, as docker0 does.
    expect(links()).toContain('tsbox0');
    expect(nftPorts()).toMatch(/table ip tsbox/);
  });

  it('network rm tsbox0 takes the idle default bridge and table down; the next run makes them again', async () => {
    const index = () => (existsSync('/sys/class/net/tsbox0/ifindex') ? readFileSync('/sys/class/net/tsbox0/ifindex', 'utf8').trim() : null);
    const before = index();
    expect(before).not.toBeNull();
    const rm = await tsbox(['network', 'rm', 'tsbox0']);
    if (rm.code !== 0) {
      // Another container (not this file's: they are all gone) uses the default network: refused, in one line.
      expect(rm.stderr.trim()).toMatch(/^tsbox: network rm: network tsbox0 has \d+ containers? attached/);
      expect(index()).toBe(before);
    } else {
      // Gone; another tsbox on this machine may have made it again already (then with another index).
      expect(index()).not.toBe(before);
    }
    expect(await ok(['run', rootfsTar(), 'sh', '-c', 'ip -o link show eth0 >/dev/null && echo eth0'])).toBe('eth0\n');
    expect(links()).toContain('tsbox0');
    expect(nftPorts()).toMatch(/table ip tsbox/);
  });

  it('Ctrl-C of tsbox run: the link, the lease and the port element go with it', async () => {
    const port = await freePort();
    // --init: PID 1 ignores SIGINT without a handler; tini passes it to sleep, which dies of it.
    const child = spawn(TSBOX_BIN, ['run', '--init', '-p', `${port}:80`, rootfsTar(), 'sleep', '600'], { env: { ...process.env, TSBOX_ROOT: testRoot() }, stdio: 'ignore' });
    const lease = await until(async () => {
      for (const f of leaseFiles('tsbox0')) {
        const l = JSON.parse(readFileSync(join(LEASES, 'tsbox0', f), 'utf8')) as { owner: { pid: number }; hostVeth: string };
        if (l.owner.pid === child.pid && links().includes(l.hostVeth) && nftPorts().includes(`${port}`)) return { file: f, veth: l.hostVeth };
      }
      throw new Error('not attached yet');
    }, 'the run attached');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
    expect(leasesOwnedBy('tsbox0', child.pid!)).toEqual([]);
    expect(nftPorts()).not.toMatch(new RegExp(`\\b${port}\\b`));
    await until(async () => {
      if (links().includes(lease.veth)) throw new Error(`${lease.veth} still exists`);
    }, 'the veth is gone');
  });

  it('Ctrl-C as soon as the lease is written (setup under way): the run unwinds; no lease, link or port element stays', async () => {
    const port = await freePort();
    // --init: should the run be past setup already, tini passes SIGINT on and sleep dies of it.
    const child = spawn(TSBOX_BIN, ['run', '--init', '-p', `${port}:80`, rootfsTar(), 'sleep', '600'], { env: { ...process.env, TSBOX_ROOT: testRoot() }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let veth = '';
    for (;;) {
      const [file] = leasesOwnedBy('tsbox0', child.pid!);
      if (file) {
        child.kill('SIGINT');
        veth = (JSON.parse(readFileSync(join(LEASES, 'tsbox0', file), 'utf8')) as { hostVeth: string }).hostVeth;
        break;
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(await exited, stderr).toBe(130);
    expect(leasesOwnedBy('tsbox0', child.pid!)).toEqual([]);
    expect(nftPorts()).not.toMatch(new RegExp(`\\b${port}\\b`));
    await until(async () => {
      if (links().includes(veth)) throw new Error(`${veth} still exists`);
    }, 'the veth is gone');
  });

  it('SIGKILL of tsbox run: the next command reclaims the link, the lease and the port element', async () => {
    const port = await freePort();
    const child = spawn(TSBOX_BIN, ['run', '-p', `${port}:80`, rootfsTar(), 'sleep', '600'], { env: { ...process.env, TSBOX_ROOT: testRoot() }, stdio: 'ignore' });
    // Running once its lease names it and its port is in the table.
    const lease = await until(async () => {
      for (const f of leaseFiles('tsbox0')) {
        const l = JSON.parse(readFileSync(join(LEASES, 'tsbox0', f), 'utf8')) as { owner: { pid: number }; hostVeth: string; ports: unknown[] };
        if (l.owner.pid === child.pid && links().includes(l.hostVeth) && nftPorts().includes(`${port}`)) return { file: f, veth: l.hostVeth };
      }
      throw new Error('not attached yet');
    }, 'the run attached');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await ok(['gc']);
    expect(leasesOwnedBy('tsbox0', child.pid!)).toEqual([]);
    expect(nftPorts()).not.toMatch(new RegExp(`\\b${port}\\b`));
    // The veth goes with the container's namespace, asynchronously: poll for it.
    await until(async () => {
      if (links().includes(lease.veth)) throw new Error(`${lease.veth} still exists`);
    }, 'the veth is gone');
  });
});
