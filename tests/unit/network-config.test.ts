/** The network flags of a run, checked in pure code before anything exists (container-network-config.ts). */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkNetworkConfig, defaultNetwork, ownNetns, parseNetworkMode, type ContainerNetworkConfig } from '../../src/network/container-network-config.js';
import type { NetworkDef } from '../../src/network/ipam/store.js';
import { formatPorts, formatPsTable, type ContainerRecord } from '../../src/runtime/state/record.js';

const net: NetworkDef = { name: 'app', subnet: '10.46.9.0/24', gateway: '10.46.9.1', bridge: 'tsbrapp', created: '' };
const lookup = (name: string) => (name === 'app' ? net : null);
const cfg = (network: string, more: Partial<ContainerNetworkConfig> = {}): ContainerNetworkConfig => ({
  mode: parseNetworkMode(network), aliases: [], publish: [], publishAll: false, dns: [], dnsSearch: [], dnsOptions: [], addHosts: [], ...more,
});
const refused = (c: ContainerNetworkConfig, message: RegExp) => {
  let err: unknown;
  try {
    checkNetworkConfig(c, lookup);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain('\n');
};

describe('--network', () => {
  it('modes', () => {
    expect(parseNetworkMode('none')).toEqual({ kind: 'none' });
    expect(parseNetworkMode('host')).toEqual({ kind: 'host' });
    expect(parseNetworkMode('bridge')).toEqual({ kind: 'bridge', network: 'tsbox0', user: false });
    expect(parseNetworkMode('app')).toEqual({ kind: 'bridge', network: 'app', user: true });
    expect(parseNetworkMode('container:db')).toEqual({ kind: 'container', name: 'db' });
    expect(() => parseNetworkMode('container:')).toThrow(UsageError);
    expect(() => parseNetworkMode('bad name!')).toThrow(UsageError);
    expect(ownNetns(parseNetworkMode('host'))).toBe(false);
    expect(ownNetns(parseNetworkMode('container:x'))).toBe(false);
    expect(ownNetns(parseNetworkMode('none'))).toBe(true);
    expect(ownNetns(parseNetworkMode('app'))).toBe(true);
  });

  it('the default is the default bridge network, as docker', () => {
    expect(parseNetworkMode(defaultNetwork())).toEqual({ kind: 'bridge', network: 'tsbox0', user: false });
  });

  it('accepts what each mode can carry', () => {
    checkNetworkConfig(cfg('bridge', { publish: ['8080:80', '127.0.0.1:53:53/udp'], dns: ['192.0.2.53'], addHosts: ['gw:host-gateway', 'db:192.0.2.7'] }), lookup);
    checkNetworkConfig(cfg('app', { ip: '10.46.9.7', mac: '02:42:0a:2e:09:07', aliases: ['db'] }), lookup);
    checkNetworkConfig(cfg('host', { dns: ['192.0.2.53'], addHosts: ['db:192.0.2.7'] }), lookup);
    checkNetworkConfig(cfg('none'), lookup);
  });

  it('refuses in one line what a mode cannot carry, and bad values', () => {
    refused(cfg('none', { publish: ['80'] }), /-p\/--publish cannot be used with --network none/);
    refused(cfg('host', { publish: ['80'] }), /-p\/--publish cannot be used with --network host/);
    refused(cfg('container:db', { publish: ['80'] }), /with --network container:db/);
    refused(cfg('none', { ip: '10.0.0.2' }), /--ip cannot be used/);
    refused(cfg('host', { mac: '02:00:00:00:00:01' }), /--mac-address cannot be used/);
    refused(cfg('bridge', { aliases: ['db'] }), /--network-alias cannot be used with --network bridge/);
    refused(cfg('bridge', { ip: '10.45.0.9' }), /--ip cannot be used with --network bridge/);
    refused(cfg('nosuch'), /network nosuch does not exist/);
    refused(cfg('app', { ip: '10.99.0.2' }), /10\.99\.0\.2/);
    refused(cfg('app', { mac: 'zz:42:0a:2e:09:07' }), /invalid --mac-address/);
    refused(cfg('bridge', { dns: ['not-an-ip'] }), /invalid --dns/);
    refused(cfg('bridge', { addHosts: ['nocolon'] }), /invalid --add-host/);
    refused(cfg('none', { addHosts: ['gw:host-gateway'] }), /host-gateway cannot be used/);
    refused(cfg('bridge', { publish: ['8080:80', '8080:81'] }), /8080/);
    refused(cfg('bridge', { publish: ['99999:80'] }), /invalid -p/);
  });
});

describe('published ports in ps', () => {
  const base: ContainerRecord = {
    id: 'a'.repeat(64), shortId: 'a'.repeat(12), name: 'web', command: ['httpd'], rootfs: '/r.tar', imageDigest: null, created: '2024-01-01T00:00:00.000Z',
    startedAt: null, finishedAt: null, status: 'running', pid: 7, ownerPid: 6, exitCode: null, oomKilled: false, error: null, detached: true, keep: true, tty: false, init: false, cgroup: null,
  };
  it("docker's rendering, and a PORTS column only when some container publishes", () => {
    expect(formatPorts([{ proto: 'tcp', hostPort: 8080, containerPort: 80 }, { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53 }])).toBe('0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp');
    const now = new Date('2024-01-01T00:00:10.000Z');
    expect(formatPsTable([base], now).split('\n')[0]).not.toMatch(/PORTS/);
    const table = formatPsTable([base, { ...base, shortId: 'b'.repeat(12), ports: [{ proto: 'tcp', hostPort: 8080, containerPort: 80 }] }], now).split('\n');
    expect(table[0]).toMatch(/PID\s+PORTS$/);
    expect(table[2]).toMatch(/0\.0\.0\.0:8080->80\/tcp$/);
  });
});
