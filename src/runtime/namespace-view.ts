/**
 * `tsbox inspect --namespaces NAME`: what the kernel holds for a running container, read
 * (never written) from /proc and the cgroup files, next to the host's:
 *
 *   namespaces  readlink /proc/PID/ns/TYPE of the container's PID 1, and of this CLI (which
 *               runs in the host's namespaces; PID 1 of the host is not touched), own or shared
 *   cgroup      its path (/proc/PID/cgroup, as the host sees it), the controllers enabled for
 *               it (cgroup.controllers) and the limit files as the kernel keeps them; when no
 *               controller is enabled, why no limit applies (the cgroup2 root's controllers,
 *               the ones bound to cgroup v1 on a hybrid host)
 *   mounts      its mount table (/proc/PID/mountinfo): target, type, source
 *
 * The collector (readNamespaceView) does the reading; describeCgroup and formatNamespaceView
 * are pure and unit-tested.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { findCgroup2Mount, findV1Controllers } from '../cgroups/index.js';
import { UsageError } from '../errors.js';
import type { ContainerRecord } from './state/record.js';
import type { StateStore } from './state/store.js';

/** Every namespace type /proc/PID/ns names (time: Linux 5.6). */
export const NAMESPACE_TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;

export interface NamespaceRow {
  type: string;
  /** "pid:[4026532301]", as readlink prints it; null where the kernel has no such type. */
  container: string | null;
  host: string | null;
  /** The container is in the host's namespace of this type. */
  shared: boolean;
}

/** The limit files read, in the order shown. */
export const LIMIT_FILES = ['memory.max', 'memory.high', 'memory.low', 'memory.swap.max', 'cpu.max', 'cpu.weight', 'cpuset.cpus', 'pids.max', 'io.max'] as const;

export interface CgroupView {
  /** As the host sees it ("/tsbox/0123456789ab"); null when the container has no cgroup v2 group. */
  path: string | null;
  /** The directory on the host (the cgroup2 mount + path). */
  dir: string | null;
  /** Enabled for this group (its cgroup.controllers). */
  controllers: string[];
  /** Each limit file that exists, with its content as the kernel reports it ("max", "50000 100000"). */
  limits: Record<string, string>;
  /** Why no limit applies, when none can; null when the group has controllers. */
  noLimits: string | null;
}

export interface MountRow {
  target: string;
  type: string;
  source: string;
}

export interface NamespaceView {
  id: string;
  name: string | null;
  pid: number;
  namespaces: NamespaceRow[];
  cgroup: CgroupView;
  mounts: MountRow[];
}

/** What the host offers, for describeCgroup: the cgroup2 root's controllers, and those bound to v1. */
export interface CgroupHost {
  mount: string | null;
  rootControllers: string[];
  boundToV1: Map<string, string>;
}

/** Why no limit applies to a group with no controllers (pure). */
export function explainNoLimits(host: CgroupHost): string {
  if (host.mount === null) return 'no cgroup v2 hierarchy is mounted on this host: the container has no group, and no limit applies';
  const v1 = [...host.boundToV1.keys()].filter((c) => ['memory', 'cpu', 'pids', 'io', 'cpuset'].includes(c));
  const offers = host.rootControllers.length > 0 ? `offers only ${host.rootControllers.join(', ')}` : 'offers no controllers';
  const why = v1.length > 0 ? `; ${v1.join(', ')} ${v1.length > 1 ? 'are' : 'is'} bound to cgroup v1 (${host.boundToV1.get(v1[0]!)}, ...), and a controller can be in one hierarchy only` : '';
  return `no controllers are enabled for this group: the cgroup v2 root at ${host.mount} ${offers}${why}. The group only gathers the container's processes (for stats and cleanup): no memory, CPU, pids or I/O limit applies, and tsbox refuses -m, --cpus, --pids-limit here rather than pretend`;
}

/** The group as the kernel holds it (pure, from what was read). */
export function describeCgroup(path: string | null, dir: string | null, controllers: string[], limits: Record<string, string>, host: CgroupHost): CgroupView {
  return { path, dir, controllers, limits, noLimits: path === null || controllers.length === 0 ? explainNoLimits(host) : null };
}

/** The 0:: line of /proc/PID/cgroup: the unified hierarchy's path (pure). */
export function unifiedPath(procCgroup: string): string | null {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3) : null;
}

/** target, type and source of each line of a mountinfo (pure). */
export function parseMountRows(mountinfo: string): MountRow[] {
  return mountinfo.trim().split('\n').filter(Boolean).map((line) => {
    const [left, right = ''] = line.split(' - ');
    const f = left!.split(' ');
    const [type = '', source = ''] = right.split(' ');
    return { target: f[4] ?? '', type, source };
  });
}

const readOr = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};
const linkOr = (path: string): string | null => {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
};

/** Read everything for a running container (read-only: readlink and reads of /proc and cgroupfs). */
export function readNamespaceView(store: StateStore, r: ContainerRecord): NamespaceView {
  if (r.status !== 'running' || r.pid === null || !store.ownerAlive(r.shortId)) {
    throw new UsageError(`container ${r.name ?? r.shortId} is not running: its namespaces exist only while its processes do`, { step: 'inspect', hint: `Start it (tsbox start ${r.name ?? r.shortId}) and ask again.` });
  }
  const pid = r.pid;
  const namespaces = NAMESPACE_TYPES.map((type) => {
    const container = linkOr(`/proc/${pid}/ns/${type}`);
    const host = linkOr(`/proc/self/ns/${type}`);
    return { type, container, host, shared: container !== null && container === host };
  });
  const selfMountinfo = readOr('/proc/self/mountinfo') ?? '';
  const mount = findCgroup2Mount(selfMountinfo);
  const path = unifiedPath(readOr(`/proc/${pid}/cgroup`) ?? '');
  const dir = mount !== null && path !== null ? join(mount, path) : null;
  const controllers = dir ? (readOr(join(dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean) : [];
  const limits: Record<string, string> = {};
  if (dir) for (const f of LIMIT_FILES) if (existsSync(join(dir, f))) limits[f] = (readOr(join(dir, f)) ?? '').trim().replace(/\n/g, '; ');
  const host: CgroupHost = {
    mount,
    rootControllers: mount ? (readOr(join(mount, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean) : [],
    boundToV1: findV1Controllers(selfMountinfo),
  };
  const mounts = parseMountRows(readOr(`/proc/${pid}/mountinfo`) ?? '');
  // The pid may have been reused if the container exited while we read: check it is still ours.
  if (!store.ownerAlive(r.shortId)) throw new UsageError(`container ${r.name ?? r.shortId} exited while it was inspected`, { step: 'inspect' });
  return { id: r.id, name: r.name, pid, namespaces, cgroup: describeCgroup(mount === null ? null : path, dir, controllers, limits, host), mounts };
}

/** The view for a terminal (pure). */
export function formatNamespaceView(v: NamespaceView): string {
  const out: string[] = [];
  out.push(`container ${v.name ?? v.id.slice(0, 12)} (${v.id.slice(0, 12)}): its first process is host pid ${v.pid}`);
  out.push('');
  const rows = [['NAMESPACE', 'CONTAINER', 'HOST', ''], ...v.namespaces.map((n) => [n.type, n.container ?? '-', n.host ?? '-', n.container === null ? '' : n.shared ? 'shared with the host' : 'own'])];
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out.push(r.map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c)).join('  ').trimEnd());
  out.push('');
  const c = v.cgroup;
  out.push(`cgroup ${c.path ?? '(none)'}${c.dir ? ` (${c.dir})` : ''}`);
  out.push(`  controllers: ${c.controllers.length > 0 ? c.controllers.join(' ') : '(none)'}`);
  for (const [file, value] of Object.entries(c.limits)) out.push(`  ${file}: ${value}`);
  if (c.noLimits) out.push(`  no limit applies: ${c.noLimits}`);
  out.push('');
  out.push(`mounts (${v.mounts.length})`);
  const mw = [Math.max(...v.mounts.map((m) => m.target.length)), Math.max(...v.mounts.map((m) => m.type.length))];
  for (const m of v.mounts) out.push(`  ${m.target.padEnd(mw[0]!)}  ${m.type.padEnd(mw[1]!)}  ${m.source}`);
  return out.join('\n');
}
