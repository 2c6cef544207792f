/**
 * One parsed config.json -> one OciContainerPlan: everything decided before anything is
 * created, each part in the shape tsbox's executors take. The checks that need the
 * context (which namespaces are the container's, whether /dev is a bind) are made here,
 * in a fixed order, so the first problem is the one reported. Pure, given the bundle probe.
 */
import type { SecurityPlan } from '../../security/plan.js';
import { CONFIG_FILE, failIn, USERNS_FIX, type Fail } from './errors.js';
import { planCgroupsPath, type CgroupPathPlan } from './cgroups-path.js';
import { planDeviceNodes, planDevicePolicy, type DevicesPlan } from './devices.js';
import { planHooks, type HooksPlan } from './hooks.js';
import { rootfsPropagationFlags } from './mount-options.js';
import { planOciMounts, planPathList, type OciMountStep } from './mounts.js';
import { hasOwn, planNamespaces, type NamespacePlan } from './namespaces.js';
import { bundlePath, staysInside, type BundleProbe } from './paths.js';
import { planProcess, type OciProcessPlan } from './process.js';
import { planResources, type ResourcesPlan } from './resources.js';
import type { OciConfig } from './schema.js';
import { planSeccomp } from './seccomp.js';
import { planSysctls, type SysctlWrite } from './sysctl.js';

export interface TranslateOptions {
  /** Absolute path of the bundle directory (create --bundle, resolved by the caller). */
  bundle: string;
  /** What the bundle's host paths are (nodeBundleProbe, or a fake in tests). */
  probe: BundleProbe;
  /** --systemd-cgroup was given: cgroupsPath is systemd's SLICE:PREFIX:NAME (see cgroups-path.ts). */
  systemdCgroup?: boolean;
  /** The document's name in messages; default config.json. */
  file?: string;
}

export interface OciContainerPlan {
  ociVersion: string;
  bundle: string;
  /** path: absolute host path of the root directory; propagation: MS_* flags for "/" (default MS_SLAVE|MS_REC). */
  root: { path: string; readOnly: boolean; propagation: number };
  process: OciProcessPlan;
  /** null: leave the UTS namespace's name alone. */
  hostname: string | null;
  domainname: string | null;
  namespaces: NamespacePlan;
  /** config.mounts, in order, targets in-root relative. */
  mounts: OciMountStep[];
  /** In-root relative paths to mask / make read-only, after the mounts and device nodes. */
  maskedPaths: string[];
  readonlyPaths: string[];
  devices: DevicesPlan;
  cgroup: { path: CgroupPathPlan; resources: ResourcesPlan };
  /** Capability sets, no_new_privs and the compiled seccomp filter (null: none), as security/apply.ts takes them. */
  security: SecurityPlan;
  sysctl: SysctlWrite[];
  /** personality(2) persona: 0 (PER_LINUX) or 8 (PER_LINUX32); null: leave it. */
  personality: number | null;
  hooks: HooksPlan;
  annotations: Record<string, string>;
  /** Things config.json asks that tsbox ignores (AppArmor, SELinux, v1-only cgroup knobs...): log them. */
  warnings: string[];
}

const PERSONALITIES: Readonly<Record<string, number>> = { LINUX: 0x0000, LINUX32: 0x0008 };

export function translateOciConfig(config: OciConfig, opts: TranslateOptions): OciContainerPlan {
  const fail = failIn(opts.file ?? CONFIG_FILE);
  const warnings: string[] = [];
  if (!opts.bundle.startsWith('/')) throw new Error(`internal: the bundle path must be absolute, not '${opts.bundle}'`);
  const linux = config.linux ?? {};

  const root = planRoot(config, opts, fail);
  if (!config.process) throw fail('process', 'is required: tsbox creates a container with its process');
  const process = planProcess(config.process, fail, warnings);

  if ((linux.uidMappings?.length ?? 0) > 0 || (linux.gidMappings?.length ?? 0) > 0) {
    throw fail(linux.uidMappings?.length ? 'linux.uidMappings' : 'linux.gidMappings', 'uid/gid mappings need a user namespace, which tsbox does not support yet (no rootless mode)', USERNS_FIX);
  }
  if (linux.timeOffsets && Object.keys(linux.timeOffsets).length > 0) throw fail('linux.timeOffsets', 'time namespaces are not supported by tsbox');
  if (linux.intelRdt) throw fail('linux.intelRdt', 'Intel RDT (resctrl) is not supported by tsbox');
  const namespaces = planNamespaces(linux.namespaces ?? [], fail, opts.probe.isHostNamespace?.bind(opts.probe));

  const hostname = config.hostname || null;
  const domainname = config.domainname || null;
  for (const [field, value] of [['hostname', hostname], ['domainname', domainname]] as const) {
    if (value === null) continue;
    if (Buffer.byteLength(value) > 64 || value.includes('\0')) throw fail(field, `'${value}' is not a host name (at most 64 bytes)`);
    if (!hasOwn(namespaces, 'uts')) throw fail(field, 'cannot be set without a UTS namespace of the container\'s own: it would rename the host', 'Add {"type": "uts"} to linux.namespaces.');
  }

  const mounts = planOciMounts(config.mounts ?? [], { bundle: opts.bundle, probe: opts.probe, fail });
  const devIsBind = mounts.some((m) => m.target === 'dev' && m.op === 'bind');
  const devices: DevicesPlan = { ...planDeviceNodes(linux.devices ?? [], devIsBind, fail), rules: planDevicePolicy(linux.resources?.devices, fail) };

  const resources = planResources(linux.resources ?? {}, fail);
  warnings.push(...resources.warnings);
  const cgroupPath = planCgroupsPath(linux.cgroupsPath, { systemd: opts.systemdCgroup ?? false }, fail);

  const seccomp = linux.seccomp ? planSeccomp(linux.seccomp, process.capabilities.bounding, fail) : null;
  const security: SecurityPlan = { capabilities: process.capabilities, noNewPrivileges: process.noNewPrivileges, seccomp };

  const sysctl = planSysctls(linux.sysctl ?? {}, namespaces, fail);

  let personality: number | null = null;
  if (linux.personality) {
    const persona = PERSONALITIES[linux.personality.domain];
    if (persona === undefined) throw fail('linux.personality.domain', `'${linux.personality.domain}' is not LINUX or LINUX32`);
    if ((linux.personality.flags?.length ?? 0) > 0) throw fail('linux.personality.flags', 'personality flags are not supported by tsbox');
    personality = persona;
  }
  if (linux.mountLabel) warnings.push(`linux.mountLabel '${linux.mountLabel}' ignored: tsbox does not support SELinux`);

  return {
    ociVersion: config.ociVersion,
    bundle: opts.bundle,
    root: { ...root, propagation: rootfsPropagationFlags(linux.rootfsPropagation, (what) => fail('linux.rootfsPropagation', what)) },
    process,
    hostname,
    domainname,
    namespaces,
    mounts,
    maskedPaths: planPathList(linux.maskedPaths ?? [], 'linux.maskedPaths', fail),
    readonlyPaths: planPathList(linux.readonlyPaths ?? [], 'linux.readonlyPaths', fail),
    devices,
    cgroup: { path: cgroupPath, resources },
    security,
    sysctl,
    personality,
    hooks: planHooks(config.hooks, fail, warnings),
    annotations: { ...(config.annotations ?? {}) },
    warnings,
  };
}

/**
 * root.path: absolute, or relative to the bundle without leaving it (containerd's "rootfs";
 * podman gives the absolute path of the overlay it mounted). It must be a directory, and
 * not the host's "/".
 */
function planRoot(config: OciConfig, opts: TranslateOptions, fail: Fail): { path: string; readOnly: boolean } {
  if (!config.root) throw fail('root', 'is required: the container needs a root filesystem');
  const given = config.root.path;
  if (given === '') throw fail('root.path', 'is empty');
  if (given.includes('\0')) throw fail('root.path', 'contains a NUL byte');
  if (!given.startsWith('/') && !staysInside(opts.bundle, given)) throw fail('root.path', `'${given}' leads out of the bundle ${opts.bundle}`, 'A relative root path must name a directory inside the bundle.');
  const path = bundlePath(opts.bundle, given);
  if (path === '/') throw fail('root.path', "the host's root directory cannot be a container's root");
  const kind = opts.probe.kind(path);
  if (kind === 'missing') throw fail('root.path', `${path} does not exist`);
  if (kind !== 'dir') throw fail('root.path', `${path} is not a directory`);
  return { path, readOnly: config.root.readonly ?? false };
}
