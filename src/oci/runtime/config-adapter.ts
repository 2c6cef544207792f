/**
 * The local adapter from a bundle's config.json to what tsbox-runtime's create needs: the
 * init's plan, the namespaces to make or join, the cgroup and its limits. A minimal reading
 * of the runtime-spec (only the fields used here are validated) until src/oci/spec/ (the
 * oci-spec branch) provides the full schema and translation; NEEDS-FROM-OCI-SPEC.md lists
 * what this adapter expects from it. Pure apart from reading the bundle (bundle.ts).
 */
import { release } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import { z } from 'zod';
import type { CgroupLimits } from '../../cgroups/index.js';
import { UsageError } from '../../errors.js';
import type { InitPlan } from '../../init/protocol.js';
import { STANDARD_DEVICES, type MountStep } from '../../mounts/plan.js';
import { ALL_CAPABILITIES } from '../../security/capabilities.js';
import { dockerProfileToSeccomp, parseKernel } from '../../security/docker-profile.js';
import type { SecurityPlan } from '../../security/plan.js';
import { compileSeccomp } from '../../security/seccomp-compile.js';
import { describeAction } from '../../security/seccomp-profile.js';
import { CLONE } from '../../sys/process-flags.js';
import { MS } from '../../sys/mount-flags.js';
import { parseMountOptions } from './mount-options.js';

const strings = z.array(z.string());
const uint = z.number().int().nonnegative();

const configSchema = z.object({
  ociVersion: z.string(),
  process: z.object({
    terminal: z.boolean().optional(),
    user: z.object({ uid: uint, gid: uint, umask: uint.optional(), additionalGids: z.array(uint).optional() }),
    args: strings.min(1, 'must name the command'),
    env: strings.optional(),
    cwd: z.string().startsWith('/', 'must be an absolute path'),
    capabilities: z.object({ bounding: strings.optional(), effective: strings.optional(), permitted: strings.optional(), inheritable: strings.optional(), ambient: strings.optional() }).optional(),
    noNewPrivileges: z.boolean().optional(),
    oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
  }),
  root: z.object({ path: z.string().min(1), readonly: z.boolean().optional() }),
  hostname: z.string().optional(),
  mounts: z.array(z.object({ destination: z.string().startsWith('/', 'must be an absolute path'), type: z.string().optional(), source: z.string().optional(), options: strings.optional() })).optional(),
  annotations: z.record(z.string()).optional(),
  linux: z.object({
    namespaces: z.array(z.object({ type: z.string(), path: z.string().optional() })).optional(),
    uidMappings: z.array(z.unknown()).optional(),
    gidMappings: z.array(z.unknown()).optional(),
    cgroupsPath: z.string().optional(),
    resources: z.object({
      memory: z.object({ limit: z.number().int().optional(), reservation: z.number().int().optional(), swap: z.number().int().optional() }).passthrough().optional(),
      cpu: z.object({ shares: z.number().int().optional(), quota: z.number().int().optional(), period: z.number().int().optional(), cpus: z.string().optional() }).passthrough().optional(),
      pids: z.object({ limit: z.number().int() }).optional(),
    }).passthrough().optional(),
    devices: z.array(z.object({ path: z.string().startsWith('/'), type: z.enum(['c', 'b', 'u', 'p']), major: uint.optional(), minor: uint.optional(), fileMode: uint.optional(), uid: uint.optional(), gid: uint.optional() })).optional(),
    seccomp: z.record(z.unknown()).optional(),
    maskedPaths: strings.optional(),
    readonlyPaths: strings.optional(),
  }).passthrough().optional(),
}).passthrough();

export type OciConfig = z.infer<typeof configSchema>;

/** config.json's text -> the validated config, or one line naming the first wrong field. */
export function parseConfig(text: string): OciConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config.json is not valid JSON: ${(err as Error).message}`, { step: 'read config.json' });
  }
  const parsed = configSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new UsageError(`invalid config.json: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { step: 'read config.json', hint: 'See the OCI runtime-spec (config.md).' });
}

export interface NamespacePlan {
  /** CLONE_* flags of the namespaces to make new (cgroup aside: the init makes that one). */
  unshare: number;
  join: { path: string; flag: number; type: string }[];
  newNet: boolean;
  newUts: boolean;
  cgroup: boolean;
}

const NAMESPACE_FLAGS: Record<string, number> = { pid: CLONE.NEWPID, network: CLONE.NEWNET, mount: CLONE.NEWNS, ipc: CLONE.NEWIPC, uts: CLONE.NEWUTS };

export function planNamespaces(config: OciConfig): NamespacePlan {
  const plan: NamespacePlan = { unshare: 0, join: [], newNet: false, newUts: false, cgroup: false };
  for (const ns of config.linux?.namespaces ?? []) {
    if (ns.type === 'cgroup') {
      if (ns.path) throw new UsageError('joining a cgroup namespace by path is not supported', { step: 'namespaces', hint: 'Leave out the path: tsbox-runtime makes a new cgroup namespace.' });
      plan.cgroup = true;
      continue;
    }
    const flag = NAMESPACE_FLAGS[ns.type];
    if (flag === undefined) {
      throw new UsageError(`namespace type '${ns.type}' is not supported`, { step: 'namespaces', hint: ns.type === 'user' ? 'User namespaces (rootless) are not implemented in tsbox yet.' : 'Supported: pid, network, mount, ipc, uts, cgroup.' });
    }
    if (ns.path) {
      if (ns.type === 'mount') throw new UsageError('joining a mount namespace by path is not supported', { step: 'namespaces', hint: 'The container needs a mount namespace of its own.' });
      if (!isAbsolute(ns.path)) throw new UsageError(`the ${ns.type} namespace path '${ns.path}' is not absolute`, { step: 'namespaces' });
      plan.join.push({ path: ns.path, flag, type: ns.type });
    } else {
      plan.unshare |= flag;
      if (ns.type === 'network') plan.newNet = true;
      if (ns.type === 'uts') plan.newUts = true;
    }
  }
  if ((plan.unshare & CLONE.NEWNS) === 0) throw new UsageError('config.json asks for no new mount namespace', { step: 'namespaces', hint: 'Add {"type":"mount"} to linux.namespaces.' });
  if (config.linux?.uidMappings?.length || config.linux?.gidMappings?.length) {
    throw new UsageError('uid/gid mappings are not supported', { step: 'namespaces', hint: 'User namespaces (rootless) are not implemented in tsbox yet.' });
  }
  return plan;
}

/** root.path: absolute (podman's overlay), or relative to the bundle and inside it. */
export function rootPath(config: OciConfig, bundle: string): string {
  const p = config.root.path;
  if (isAbsolute(p)) return normalize(p);
  const resolved = normalize(join(bundle, p));
  if (resolved !== bundle && !resolved.startsWith(`${bundle}/`)) {
    throw new UsageError(`root.path '${p}' leads outside the bundle`, { step: 'read config.json', hint: 'A relative root.path must stay inside the bundle directory.' });
  }
  return resolved;
}

/** Where the group goes under the cgroup2 mount: cgroupsPath "/a/b/c" -> parent "a/b", name "c". */
export function planCgroup(config: OciConfig, id: string): { parent: string; name: string } {
  const path = config.linux?.cgroupsPath;
  if (path === undefined || path === '') return { parent: 'tsbox-runtime', name: id };
  if (/^[^/]*:[^/]*:[^/]*$/.test(path)) {
    throw new UsageError(`systemd cgroupsPath '${path}' (slice:prefix:name) is not supported`, { step: 'cgroup', hint: 'Use the cgroupfs manager (podman --cgroup-manager cgroupfs; containerd SystemdCgroup = false).' });
  }
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => s === '..' || s === '.')) throw new UsageError(`invalid cgroupsPath '${path}'`, { step: 'cgroup' });
  return { parent: segments.slice(0, -1).join('/'), name: segments.at(-1)! };
}

/** v1-shaped resources (what podman and containerd send here) as tsbox's cgroup v2 limits. */
export function planLimits(config: OciConfig): CgroupLimits {
  const r = config.linux?.resources;
  const limits: CgroupLimits = {};
  if (r?.memory?.limit !== undefined && r.memory.limit > 0) limits.memoryMax = r.memory.limit;
  if (r?.cpu?.quota !== undefined && r.cpu.quota > 0) limits.cpuMax = { quotaUs: r.cpu.quota, periodUs: r.cpu.period && r.cpu.period > 0 ? r.cpu.period : 100000 };
  if (r?.cpu?.cpus) limits.cpusetCpus = r.cpu.cpus;
  if (r?.pids?.limit !== undefined && r.pids.limit > 0) limits.pidsMax = r.pids.limit;
  // cpu.shares (containerd always sends 1024 or 2): a relative weight, not a limit; nothing to enforce alone.
  return limits;
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const DEV_SYMLINKS: [string, string][] = [['/dev/fd', '/proc/self/fd'], ['/dev/stdin', '/proc/self/fd/0'], ['/dev/stdout', '/proc/self/fd/1'], ['/dev/stderr', '/proc/self/fd/2'], ['/dev/ptmx', 'pts/ptmx']];

/** config.json's mounts, the default devices after /dev, linux.devices, masked and read-only paths. */
export function planMountSteps(config: OciConfig, isDir: (path: string) => boolean): MountStep[] {
  const steps: MountStep[] = [];
  const mounts = config.mounts ?? [];
  const devIsMounted = mounts.some((m) => normalize(m.destination) === '/dev');
  const devices = (config.linux?.devices ?? []).map((d): MountStep => {
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) throw new UsageError(`device ${d.path} needs major and minor numbers`, { step: 'read config.json' });
    const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    return { op: 'mknod', target: d.path, major: d.major ?? 0, minor: d.minor ?? 0, mode: type | ((d.fileMode ?? 0o666) & 0o777), owner: { uid: d.uid ?? 0, gid: d.gid ?? 0 } };
  });
  const defaultDevices = (): MountStep[] => {
    const given = new Set(devices.map((d) => (d as { target: string }).target));
    const out: MountStep[] = STANDARD_DEVICES.filter((d) => !given.has(`/dev/${d.name}`)).map((d) => ({ op: 'mknod', target: `/dev/${d.name}`, major: d.major, minor: d.minor, mode: S_IFCHR | 0o666 }));
    return [...out, ...devices, ...DEV_SYMLINKS.map(([target, linkTo]): MountStep => ({ op: 'symlink', target, linkTo }))];
  };
  for (const m of mounts) {
    const target = normalize(m.destination);
    const { flags, bind, data } = parseMountOptions(m.options ?? []);
    if (bind || m.type === 'bind') {
      if (!m.source) throw new UsageError(`the bind mount at ${target} has no source`, { step: 'read config.json' });
      steps.push({ op: 'bind', source: m.source, target, readOnly: (flags & MS.RDONLY) !== 0, create: isDir(m.source) ? 'dir' : 'file', flags: flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC) });
    } else if (m.type === 'cgroup' || m.type === 'cgroup2') {
      // Never a v1 hierarchy: the container's own cgroup2 group, seen from its cgroup namespace.
      steps.push({ op: 'mount', fstype: 'cgroup2', source: 'cgroup2', target, flags: flags | MS.NOSUID | MS.NODEV | MS.NOEXEC, create: 'dir' });
    } else {
      if (!m.type) throw new UsageError(`the mount at ${target} has no type`, { step: 'read config.json' });
      steps.push({ op: 'mount', fstype: m.type, source: m.source ?? m.type, target, flags, ...(data ? { data } : {}), create: 'dir' });
    }
    if (target === '/dev') steps.push(...defaultDevices());
  }
  if (!devIsMounted) steps.push(...devices);
  for (const target of config.linux?.maskedPaths ?? []) steps.push({ op: 'mask', target });
  for (const target of config.linux?.readonlyPaths ?? []) steps.push({ op: 'readonly', target });
  return steps;
}

/** Capabilities, no_new_privs and seccomp exactly as config.json says (not tsbox's docker defaults). */
export function planSecurity(config: OciConfig, kernelRelease = release()): SecurityPlan {
  const c = config.process.capabilities ?? {};
  const known = new Set(ALL_CAPABILITIES);
  // A name this tsbox does not know (a newer kernel's) is left out, as runc does with a warning.
  const set = (names: string[] | undefined) => (names ?? []).filter((n) => known.has(n));
  const inheritable = set(c.inheritable);
  const permitted = set(c.permitted);
  // The kernel raises an ambient capability only if it is permitted and inheritable; runc warns
  // and goes on for the others (its own default spec asks for ambient without inheritable).
  const ambient = set(c.ambient).filter((n) => inheritable.includes(n) && permitted.includes(n));
  const capabilities = { bounding: set(c.bounding), effective: set(c.effective), permitted, inheritable, ambient };
  let seccomp: SecurityPlan['seccomp'] = null;
  const profile = config.linux?.seccomp;
  if (profile) {
    const caps = new Set(capabilities.bounding);
    const { profile: converted, skippedNames } = dockerProfileToSeccomp(profile, 'config.json linux.seccomp', { caps, kernel: parseKernel(kernelRelease) });
    const filter = compileSeccomp(converted);
    seccomp = { filter: filter.toString('base64'), rules: converted.rules.length, instructions: filter.length / 8, defaultAction: describeAction(converted.defaultAction), flags: converted.flags, source: 'config.json', skippedNames };
  }
  return { capabilities, noNewPrivileges: config.process.noNewPrivileges ?? false, seccomp };
}

/** Everything of the init's plan that config.json decides (create adds the hold fifo). */
export function planInit(config: OciConfig, id: string, root: string, ns: NamespacePlan, isDir: (path: string) => boolean, debug: boolean): InitPlan {
  if (config.hostname && !ns.newUts) throw new UsageError('config.json sets a hostname without a new UTS namespace', { step: 'read config.json', hint: 'Add {"type":"uts"} to linux.namespaces.' });
  const mounts = planMountSteps(config, isDir);
  const { uid, gid } = config.process.user;
  return {
    containerId: id,
    rootfs: { kind: 'bind', path: root, readOnly: config.root.readonly ?? false, nodev: false },
    hostname: ns.newUts ? (config.hostname ?? '') : '',
    mounts,
    process: { args: config.process.args, env: config.process.env ?? [], cwd: config.process.cwd, user: `${uid}:${gid}` },
    security: planSecurity(config),
    debug,
    tty: config.process.terminal ?? false,
    cgroupNamespace: ns.cgroup || mounts.some((m) => m.op === 'mount' && m.fstype === 'cgroup2'),
    loopback: ns.newNet,
  };
}
