/**
 * What tsbox could leave on the host: mounts, cgroups, network links (bridges included), named
 * network namespaces, nft tables, network leases, and the entries of its state root. The
 * suite takes a snapshot before and after and fails if anything was added.
 *
 * The default network's bridge (tsbox0) and tsbox's nft table stay up between containers by
 * design, as docker0 does (docs/networking.md): they are not a leak of one run, so the suite
 * takes them down at its end the way a user would (`tsbox network rm tsbox0`,
 * takeDownDefaultNetwork) and then expects nothing left, them included. That fails when a
 * container still uses the default network: exactly a leak.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HostState {
  mounts: string[];
  cgroups: string[];
  links: string[];
  netns: string[];
  stateEntries: string[];
  /** nft tables of tsbox (`ip tsbox`, the tests' `ip tsbt*`). */
  nftTables: string[];
  /** Host-wide network leases (src/network/ipam): one file per address. */
  leases: string[];
}

/** tsbox's nft tables; none when nft is not installed (then tsbox cannot have made any). */
function nftTables(): string[] {
  try {
    return execFileSync('nft', ['list', 'tables'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')
      .map((l) => l.trim()).filter((l) => /^table ip tsb/.test(l));
  } catch {
    return [];
  }
}

function leaseFiles(dir = '/run/tsbox-net/leases'): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.json')).map((f) => join(dir, d.name, f)));
}

/** Every cgroup directory below `base`, down to `depth` levels (the suites' one tree walk). */
export function cgroupDirs(base: string, depth: number): string[] {
  const out: string[] = [];
  const walk = (dir: string, left: number) => {
    if (left === 0) return;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const n of names) {
      out.push(join(dir, n));
      walk(join(dir, n), left - 1);
    }
  };
  walk(base, depth);
  return out;
}

/** src/oci/runtime/state-dir.ts DEFAULT_STATE_ROOT. */
export const RUNTIME_STATE_ROOT = '/run/tsbox-runtime';

export function snapshotHost(root: string): HostState {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.includes('tsbox') || m.startsWith(root));
  const cgroups = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].flatMap((base) => cgroupDirs(base, 3)).filter((p) => p.includes('tsbox'));
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter((n) => /^(tsbox|tsb)/.test(n));
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.includes('tsbox')) : [];
  const stateEntries: string[] = [];
  // run/ (container records) keeps its global lock and records directory; the records are what may leak.
  for (const sub of ['containers', 'rootfs', 'run/containers']) {
    const dir = join(root, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      // Complete cache entries are meant to stay; anything else (temporaries, containers) is a leak.
      if (sub === 'rootfs' && /^[0-9a-f]{64}$/.test(name)) continue;
      // The cache's index and its lock files are permanent parts of the cache.
      if (sub === 'rootfs' && ['index.json', '.index.lock', '.locks'].includes(name)) continue;
      stateEntries.push(join(sub, name));
    }
  }
  // tsbox-runtime's default state root (podman's `state` passes no --root): a container left there is a leak too.
  if (existsSync(RUNTIME_STATE_ROOT)) for (const name of readdirSync(RUNTIME_STATE_ROOT)) stateEntries.push(join(RUNTIME_STATE_ROOT, name));
  return { mounts, cgroups: [...new Set(cgroups)], links, netns, stateEntries, nftTables: nftTables(), leases: leaseFiles() };
}

/** What `after` has that `before` did not, one line per leaked thing. */
export function leaksBetween(before: HostState, after: HostState): string[] {
  const leaks: string[] = [];
  for (const key of Object.keys(after) as (keyof HostState)[]) {
    for (const item of after[key]) if (!before[key].includes(item)) leaks.push(`${key}: ${item}`);
  }
  return leaks;
}

/**
 * The suite's end: if the default network's bridge was not up before the suite, take it
 * (and with it, when no other network needs it, tsbox's nft table) down through the CLI.
 * Refused, and so reported by the leak check, while a container still uses it.
 */
export function takeDownDefaultNetwork(before: HostState, root: string): void {
  if (before.links.includes('tsbox0') || !existsSync('/sys/class/net/tsbox0')) return;
  const bin = fileURLToPath(new URL('../../bin/tsbox', import.meta.url));
  spawnSync(bin, ['network', 'rm', 'tsbox0'], { env: { ...process.env, TSBOX_ROOT: root }, stdio: 'ignore' });
}
