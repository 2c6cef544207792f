/**
 * Host-wide network state, shared by every --root: two roots must never hand out the same
 * address. Network definitions live on disk (/var/lib/tsbox-net/networks/NAME.json, they
 * survive a reboot as docker's and podman's do); leases live on tmpfs
 * (/run/tsbox-net/leases/NAME/IP.json: a reboot ends every container, and so every lease).
 * One flock per network serialises allocation, bridge creation and removal.
 */
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { TsboxError, UsageError } from '../../errors.js';
import { tryFlock } from '../../sys/fd.js';
import { type LeaseOwner, ownerAlive } from './owner.js';

export interface NetPaths {
  networks: string;
  leases: string;
}

export const DEFAULT_PATHS: NetPaths = { networks: '/var/lib/tsbox-net/networks', leases: '/run/tsbox-net/leases' };

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export const networkSchema = z.object({
  name: z.string().regex(NAME),
  subnet: z.string(),
  gateway: z.string(),
  bridge: z.string().max(15),
  created: z.string(),
});
export type NetworkDef = z.infer<typeof networkSchema>;

const portSchema = z.object({
  proto: z.enum(['tcp', 'udp']),
  hostIp: z.string().optional(),
  hostPort: z.number().int(),
  containerIp: z.string(),
  containerPort: z.number().int(),
});

export const leaseSchema = z.object({
  network: z.string(),
  ip: z.string(),
  mac: z.string(),
  owner: z.object({ containerId: z.string(), pid: z.number().int(), startTime: z.string() }),
  /** Published ports: a reclaim after SIGKILL must remove them before the address is reused. */
  ports: z.array(portSchema),
  /** What other containers on the network call it (the name responder reads these). */
  names: z.array(z.string()).default([]),
  /** The veth's host end, removed on reclaim in case the namespace is still held open. */
  hostVeth: z.string(),
  created: z.string(),
});
export type Lease = z.input<typeof leaseSchema>;

export function checkNetworkName(name: string): void {
  if (!NAME.test(name)) {
    throw new UsageError(`invalid network name "${name}"`, { step: 'network', hint: 'Use letters, digits, "_", "." and "-", starting with a letter or digit.' });
  }
}

/** Write-then-rename: a reader never sees half a file, a crash leaves the old one or none. */
function writeAtomic(path: string, data: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
}

export function readNetwork(paths: NetPaths, name: string): NetworkDef | null {
  checkNetworkName(name);
  const file = join(paths.networks, `${name}.json`);
  if (!existsSync(file)) return null;
  const parsed = networkSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new TsboxError(`network definition ${file} is damaged`, { step: 'network', hint: `Remove it with tsbox network rm ${name}.` });
  return parsed.data;
}

export function listNetworks(paths: NetPaths): NetworkDef[] {
  if (!existsSync(paths.networks)) return [];
  return readdirSync(paths.networks).filter((f) => f.endsWith('.json'))
    .map((f) => readNetwork(paths, f.slice(0, -5))).filter((n): n is NetworkDef => n !== null);
}

export function writeNetwork(paths: NetPaths, def: NetworkDef): void {
  mkdirSync(paths.networks, { recursive: true, mode: 0o755 });
  writeAtomic(join(paths.networks, `${def.name}.json`), def);
}

export function removeNetworkDef(paths: NetPaths, name: string): void {
  rmSync(join(paths.networks, `${name}.json`), { force: true });
}

const leaseDir = (paths: NetPaths, network: string) => join(paths.leases, network);
export const leasePath = (paths: NetPaths, network: string, ip: string): string => join(leaseDir(paths, network), `${ip}.json`);

/**
 * Run fn holding the flock on `lockPath` (blocking: the critical sections take a millisecond).
 * The kernel drops a flock when its holder dies, so a SIGKILLed tsbox never leaves it held.
 * The last release removes a network's lease directory, lock file included: a lock taken on
 * a file that was unlinked meanwhile guards nothing, so it is retaken on the file now there.
 */
export function withLock<T>(lockPath: string, what: string, fn: () => T): T {
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; ; i++) {
    mkdirSync(dirname(lockPath), { recursive: true, mode: 0o755 });
    const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      if (tryFlock(fd, true)) {
        const held = fstatSync(fd);
        const now = statSync(lockPath, { throwIfNoEntry: false });
        if (now && now.ino === held.ino && now.dev === held.dev) return fn();
      }
    } finally {
      closeSync(fd); // closing the only fd drops the flock
    }
    if (i > 2000) throw new TsboxError(`${what} stays locked by another tsbox`, { step: 'network', hint: 'Retry; if it persists, look for a stuck tsbox process.' });
    Atomics.wait(wait, 0, 0, 5);
  }
}

export function withNetworkLock<T>(paths: NetPaths, network: string, fn: () => T): T {
  return withLock(join(leaseDir(paths, network), '.lock'), `network ${network}`, fn);
}

/** tsbox's nft table is shared by every network: created and deleted under this lock. */
export function withTableLock<T>(paths: NetPaths, fn: () => T): T {
  return withLock(join(paths.leases, '.table.lock'), 'the nft table', fn);
}

export function readLeases(paths: NetPaths, network: string): Lease[] {
  const dir = leaseDir(paths, network);
  if (!existsSync(dir)) return [];
  const out: Lease[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      const parsed = leaseSchema.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // A lease file being written by rename is never partial; an unreadable one is skipped
      // and its address stays taken (the file still exists), which is the safe side.
    }
  }
  return out;
}

export function takenAddresses(paths: NetPaths, network: string): Set<string> {
  const dir = leaseDir(paths, network);
  if (!existsSync(dir)) return new Set();
  return new Set(readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)));
}

export function writeLease(paths: NetPaths, lease: Lease): void {
  writeAtomic(leasePath(paths, lease.network, lease.ip), lease);
}

export function leaseIsOwnedBy(paths: NetPaths, network: string, ip: string, containerId: string): boolean {
  return ownedLease(paths, network, ip, containerId) !== null;
}

/** The lease at `ip` if it is still `containerId`'s, else null. */
export function ownedLease(paths: NetPaths, network: string, ip: string, containerId: string): Lease | null {
  try {
    const lease = leaseSchema.parse(JSON.parse(readFileSync(leasePath(paths, network, ip), 'utf8')));
    return lease.owner.containerId === containerId ? lease : null;
  } catch {
    return null;
  }
}

/** Remove a lease only if it is still `owner`'s: a late release must not free a reused address. */
export function removeLease(paths: NetPaths, network: string, ip: string, containerId: string): boolean {
  const file = leasePath(paths, network, ip);
  try {
    const lease = leaseSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    if (lease.owner.containerId !== containerId) return false;
  } catch {
    return false;
  }
  rmSync(file, { force: true });
  return true;
}

/** Leases whose owner process is gone (SIGKILL, a crash): the caller releases what they hold. */
export function deadLeases(paths: NetPaths, network: string): Lease[] {
  return readLeases(paths, network).filter((l) => !ownerAlive(l.owner as LeaseOwner));
}

export function removeLeaseDir(paths: NetPaths, network: string): void {
  rmSync(leaseDir(paths, network), { recursive: true, force: true });
}

/**
 * Addresses released without their conntrack entries flushed yet (release.ts, "deferred
 * flush"): a marker file `IP.conntrack` beside the leases. Allocation skips them until a
 * batch flush has run, so no new owner inherits an old owner's NAT decisions.
 */
const staleMarker = (paths: NetPaths, network: string, ip: string) => join(leaseDir(paths, network), `${ip}.conntrack`);

/**
 * A released lease becomes its address's stale marker in one rename (release.ts
 * freeAddress), under the network's lock. A lease already gone is nothing to retire.
 */
export function retireLease(paths: NetPaths, network: string, ip: string): void {
  try {
    renameSync(leasePath(paths, network, ip), staleMarker(paths, network, ip));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export function staleAddresses(paths: NetPaths, network: string): Set<string> {
  const dir = leaseDir(paths, network);
  if (!existsSync(dir)) return new Set();
  return new Set(readdirSync(dir).filter((f) => f.endsWith('.conntrack')).map((f) => f.slice(0, -'.conntrack'.length)));
}

export function clearStale(paths: NetPaths, network: string, ip: string): void {
  rmSync(staleMarker(paths, network, ip), { force: true });
}
