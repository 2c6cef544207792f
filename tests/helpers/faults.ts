/**
 * Helpers for the fault and load tests: what a state root holds, the processes under a
 * tsbox, the container's cgroup, and a large rootfs archive built from the suite's
 * busybox tarball (so that extraction takes long enough to be interrupted).
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cgroupDirs } from './host-state.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a --root holds besides the permanent parts of the cache (index, locks). */
export interface RootState {
  /**
   * <root>/containers/<id> holding what a run's processes use (live/: overlay upper/work,
   * resources.json), or a run directory of the previous version (no record in it).
   */
  containers: string[];
  /** <root>/containers/<id> with a record (state.json); the previous version's in <root>/run/containers. */
  records: string[];
  /** <root>/rootfs/.tmp-*: extractions in progress (or left by a dead one) and their locks. */
  temps: string[];
  /** <root>/rootfs/<sha256 hex>: published cache entries. */
  entries: string[];
}

export function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

export function rootState(root: string): RootState {
  const cache = listDir(join(root, 'rootfs'));
  const dirs = listDir(join(root, 'containers'));
  const has = (name: string, file: string) => existsSync(join(root, 'containers', name, file));
  return {
    containers: dirs.filter((n) => has(n, 'live') || !has(n, 'state.json')),
    records: [...dirs.filter((n) => has(n, 'state.json')), ...listDir(join(root, 'run', 'containers'))],
    temps: cache.filter((n) => n.startsWith('.tmp-')),
    entries: cache.filter((n) => /^[0-9a-f]{64}$/.test(n)),
  };
}

/** The cgroup2 mount point of this host (/sys/fs/cgroup or /sys/fs/cgroup/unified). */
export function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4]!;
  }
  throw new Error('no cgroup2 mount on this host');
}

/** Every cgroup directory under the cgroup2 mount (to depth 4) whose name is one of `ids`. */
export function cgroupsNamed(ids: Iterable<string>): string[] {
  const wanted = new Set(ids);
  return allCgroups().filter((p) => wanted.has(basename(p)));
}

/** All cgroup directories under the cgroup2 mount (to depth 4). */
export function allCgroups(): string[] {
  return cgroupDirs(cgroup2Mount(), 4);
}

/**
 * What runs `ids` under `root` left behind, by kind; every list is empty when nothing was
 * left (compare with NOTHING_LEFT, so a failure names the kind).
 */
export function leftBehind(root: string, ids: Iterable<string>): Record<'containers' | 'records' | 'temps' | 'cgroups' | 'mounts' | 'leases', string[]> {
  const state = rootState(root);
  return { containers: state.containers, records: state.records, temps: state.temps, cgroups: cgroupsNamed(ids), mounts: hostMountsMentioning(root), leases: leasesOf(ids) };
}

export const NOTHING_LEFT = { containers: [], records: [], temps: [], cgroups: [], mounts: [], leases: [] };

const LEASES = '/run/tsbox-net/leases';

/** Host-wide network leases (src/network/ipam) held by the containers `ids`. */
export function leasesOf(ids: Iterable<string>): string[] {
  const wanted = new Set(ids);
  if (!existsSync(LEASES)) return [];
  const out: string[] = [];
  for (const net of readdirSync(LEASES)) {
    let files: string[];
    try {
      files = readdirSync(join(LEASES, net)).filter((f) => f.endsWith('.json'));
    } catch {
      continue;
    }
    for (const f of files) {
      try {
        const lease = JSON.parse(readFileSync(join(LEASES, net, f), 'utf8')) as { owner: { containerId: string } };
        if (wanted.has(lease.owner.containerId)) out.push(join(net, f));
      } catch {
        // released while read
      }
    }
  }
  return out;
}

/** The host ends of the containers' veths (tsb + 12 characters of the id), still present. */
export function vethsOf(ids: Iterable<string>): string[] {
  const present = new Set(readdirSync('/sys/class/net'));
  return [...ids].map((id) => `tsb${id.slice(0, 12)}`).filter((n) => present.has(n));
}

export function ownerCgroup(root: string, id: string): string | null {
  try {
    const record = JSON.parse(readFileSync(join(root, 'containers', id, 'live', 'resources.json'), 'utf8')) as { resources: { kind: string; path?: string }[] };
    return record.resources.filter((r) => r.kind === 'cgroup').at(-1)?.path ?? null;
  } catch {
    return null;
  }
}

/** Mounts of this (the host's) mount namespace that mention `root`, except one on `root` itself. */
export function hostMountsMentioning(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root) && l.split(' ')[4] !== root);
}

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Children of every thread of `pid`. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const tid of listDir(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // thread gone
    }
  }
  return out;
}

export function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const c of childPids(pid)) out.push(c, ...descendants(c));
  return out;
}

export function comm(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

export async function waitFor(pred: () => boolean, timeoutMs: number, what: string, intervalMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Resolves once the child's stderr (accumulated) matches `pattern`, with all of it so far. */
export function stderrMatch(child: ChildProcess, pattern: RegExp | string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer | string) => {
      text += d.toString();
      if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) {
        child.stderr!.off('data', onData);
        resolve(text);
      }
    };
    child.stderr!.on('data', onData);
    child.once('close', () => reject(new Error(`tsbox exited before its stderr matched ${pattern}:\n${text}`)));
  });
}

/** Container ids named in tsbox's JSON log lines. */
export function idsInLog(stderr: string): string[] {
  return [...new Set([...stderr.matchAll(/"container":"([0-9a-f]{12})"/g)].map((m) => m[1]!))];
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

export interface BuiltRootfs {
  tar: string;
  /** sha256 hex of the archive: the name of its cache entry. */
  sha256: string;
  /** A file inside the container and its md5, to prove a run used a complete tree. */
  sample: { path: string; md5: string };
}

/**
 * The busybox rootfs plus `dirs` x 100 files of 64 KiB under /data (dirs = 32: ~200 MB,
 * ~3500 entries), each file with distinct content.
 */
export async function buildDataRootfs(busyboxTar: string, outDir: string, dirs: number): Promise<BuiltRootfs> {
  const src = join(outDir, 'src');
  mkdirSync(join(src, 'data'), { recursive: true });
  execFileSync('tar', ['-xf', busyboxTar, '-C', src]);
  let sample: BuiltRootfs['sample'] | undefined;
  for (let d = 0; d < dirs; d++) {
    mkdirSync(join(src, 'data', `d${d}`));
    for (let i = 0; i < 100; i++) {
      const b = Buffer.alloc(64 * 1024, (d * 100 + i) % 251);
      b.write(`file ${d}/${i} of ${outDir}\n`);
      writeFileSync(join(src, 'data', `d${d}`, `f${i}`), b);
      if (d === dirs - 1 && i === 99) sample = { path: `/data/d${d}/f${i}`, md5: createHash('md5').update(b).digest('hex') };
    }
  }
  const tar = join(outDir, 'rootfs.tar');
  execFileSync('tar', ['-cf', tar, '-C', src, '.']);
  rmSync(src, { recursive: true, force: true });
  return { tar, sha256: await sha256File(tar), sample: sample! };
}
