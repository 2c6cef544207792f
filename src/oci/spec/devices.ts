/**
 * Devices of an OCI container. Pure.
 *
 * Nodes (linux.devices): made in the container's /dev after the mounts. The default ones
 * (null, zero, full, random, urandom, tty: the runtime-spec's list) are always made, unless
 * linux.devices names the same path; with the /dev/ptmx, fd, stdin, stdout and stderr
 * links, as runc does. When /dev is a bind mount from the host (mounts), nothing is made.
 * tsbox mounts the rootfs nodev, so a node outside /dev would not open: paths must be
 * under /dev.
 *
 * Policy (linux.resources.devices): the cgroup v1 device list, read in order as runc's
 * emulator reads it, into tsbox's deny-by-default allow-list (devices/rules.ts), plus
 * tsbox's default rules (DEFAULT_DEVICE_RULES: the default nodes, ptmx and the container's
 * ptys, as runc appends its AllowedDevices). "a *:* rwm" allowed last (podman --privileged)
 * means no program at all (rules null). A deny other than "deny all" that takes back part
 * of an earlier allow cannot be an allow-list: refused.
 */
import { DEFAULT_DEVICE_RULES, MAX_MAJOR, MAX_MINOR, canonicalAccess, type DeviceRule } from '../../devices/rules.js';
import { CONFIG_FILE, OciSpecError, type Fail } from './errors.js';
import { inRootPath } from './paths.js';
import type { OciDevice, OciDeviceRule } from './schema.js';

export interface OciDeviceNode {
  /** In-root relative path, under dev/: "dev/loop0". */
  target: string;
  /** c: character (and u, unbuffered), b: block, p: FIFO. */
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  /** Permission bits only (the type comes from `type`). */
  mode: number;
  uid: number;
  gid: number;
}

export interface DevicesPlan {
  /** false when /dev is a bind mount (the nodes are the host's): make no nodes or links. */
  create: boolean;
  nodes: OciDeviceNode[];
  /** Links to make in /dev: { target: 'dev/ptmx', linkTo: 'pts/ptmx' }. */
  symlinks: { target: string; linkTo: string }[];
  /** The device program's allow-list; null: no program, every device (an "allow all" config). */
  rules: DeviceRule[] | null;
}

/** The runtime-spec's default devices (config-linux.md "Default Devices"). */
export const DEFAULT_OCI_DEVICES: readonly OciDeviceNode[] = [
  { target: 'dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
  { target: 'dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0 },
  { target: 'dev/full', type: 'c', major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0 },
  { target: 'dev/random', type: 'c', major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0 },
  { target: 'dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0 },
  { target: 'dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0 },
];

const DEV_LINKS = [
  { target: 'dev/ptmx', linkTo: 'pts/ptmx' },
  { target: 'dev/fd', linkTo: '/proc/self/fd' },
  { target: 'dev/stdin', linkTo: '/proc/self/fd/0' },
  { target: 'dev/stdout', linkTo: '/proc/self/fd/1' },
  { target: 'dev/stderr', linkTo: '/proc/self/fd/2' },
];

export function planDeviceNodes(devices: readonly OciDevice[], devIsBind: boolean, fail: Fail): Omit<DevicesPlan, 'rules'> {
  const nodes: OciDeviceNode[] = [];
  devices.forEach((d, i) => {
    const where = `linux.devices[${i}]`;
    const target = inRootPath(d.path);
    if (!d.path.startsWith('/') || !target.startsWith('dev/')) throw fail(`${where}.path`, `'${d.path}' is not under /dev, the only place tsbox's containers can open device nodes (the rootfs is nodev)`);
    if (!['c', 'u', 'b', 'p'].includes(d.type)) throw fail(`${where}.type`, `'${d.type}' is not c, u, b or p`);
    const type = d.type === 'u' ? 'c' : (d.type as 'c' | 'b' | 'p');
    const major = d.major ?? 0;
    const minor = d.minor ?? 0;
    if (type !== 'p') {
      if (d.major == null || d.minor == null) throw fail(where, 'a character or block device needs major and minor');
      if (major < 0 || major > MAX_MAJOR) throw fail(`${where}.major`, `must be from 0 to ${MAX_MAJOR}`);
      if (minor < 0 || minor > MAX_MINOR) throw fail(`${where}.minor`, `must be from 0 to ${MAX_MINOR}`);
    }
    if (nodes.some((n) => n.target === target)) throw fail(`${where}.path`, `${d.path} is listed twice`);
    nodes.push({ target, type, major, minor, mode: (d.fileMode ?? 0o666) & 0o7777, uid: d.uid ?? 0, gid: d.gid ?? 0 });
  });
  const given = new Set(nodes.map((n) => n.target));
  const defaults = DEFAULT_OCI_DEVICES.filter((d) => !given.has(d.target));
  return { create: !devIsBind, nodes: [...defaults, ...nodes], symlinks: DEV_LINKS.filter((l) => !given.has(l.target)) };
}

interface Rule extends DeviceRule {
  allow: boolean;
}

/** Whether two rules can match the same (type, major, minor) and share an access. */
function overlaps(a: DeviceRule, b: DeviceRule): boolean {
  const t = a.type === 'a' || b.type === 'a' || a.type === b.type;
  const maj = a.major === '*' || b.major === '*' || a.major === b.major;
  const min = a.minor === '*' || b.minor === '*' || a.minor === b.minor;
  return t && maj && min && [...a.access].some((c) => b.access.includes(c));
}

const isAll = (r: DeviceRule) => r.type === 'a' && r.major === '*' && r.minor === '*' && r.access === 'rwm';

export function planDevicePolicy(list: readonly OciDeviceRule[] | null | undefined, fail: Fail, prefix = 'linux.resources.devices'): DeviceRule[] | null {
  let allowAll = false;
  let allowed: DeviceRule[] = [];
  (list ?? []).forEach((raw, i) => {
    const where = `${prefix}[${i}]`;
    const rule = parseRule(raw, where, fail);
    if (isAll(rule)) {
      // "a *:* rwm": resets the list, as a write of "a" to devices.allow or devices.deny does in v1.
      allowAll = rule.allow;
      allowed = [];
      return;
    }
    if (allowAll) {
      if (!rule.allow) throw fail(where, 'a deny rule after "allow all" cannot be expressed: tsbox\'s device policy is an allow-list', 'Start the list with {"allow": false, "access": "rwm"}.');
      return;
    }
    const { allow: _allow, ...plain } = rule;
    if (rule.allow) {
      allowed.push(plain);
      return;
    }
    // A deny under "deny all": it may only take back an allow it matches exactly.
    const exact = allowed.findIndex((a) => a.type === plain.type && a.major === plain.major && a.minor === plain.minor && a.access === plain.access);
    if (exact >= 0) allowed.splice(exact, 1);
    else if (allowed.some((a) => overlaps(a, plain))) throw fail(where, 'this deny takes back part of an earlier allow, which tsbox\'s allow-list device policy cannot express');
  });
  if (allowAll) return null;
  const out: DeviceRule[] = [...DEFAULT_DEVICE_RULES];
  for (const r of allowed) if (!out.some((o) => o.type === r.type && o.major === r.major && o.minor === r.minor && o.access === r.access)) out.push(r);
  return out;
}

function parseRule(r: OciDeviceRule, where: string, fail: Fail): Rule {
  const type = r.type ?? 'a';
  if (type !== 'a' && type !== 'c' && type !== 'b') throw fail(`${where}.type`, `'${type}' is not a, c or b`);
  const access = canonicalAccess(r.access ?? 'rwm');
  if (access === null) throw fail(`${where}.access`, `'${r.access}' is not a combination of r, w and m`);
  const num = (n: number | null | undefined, max: number, field: string): number | '*' => {
    if (n === null || n === undefined || n === -1) return '*';
    if (n < 0 || n > max) throw fail(`${where}.${field}`, `must be from 0 to ${max}, or -1 for any`);
    return n;
  };
  return { allow: r.allow, type, major: num(r.major, MAX_MAJOR, 'major'), minor: num(r.minor, MAX_MINOR, 'minor'), access };
}

/** Whether the allow-list lets a node be opened (read or write). */
export function nodeAllowed(rules: readonly DeviceRule[], node: Pick<OciDeviceNode, 'type' | 'major' | 'minor'>): boolean {
  if (node.type === 'p') return true;
  return rules.some((r) => (r.type === 'a' || r.type === node.type)
    && (r.major === '*' || r.major === node.major)
    && (r.minor === '*' || r.minor === node.minor)
    && (r.access.includes('r') || r.access.includes('w')));
}

/** Capabilities with which a container gets around nodev without a device program (as devices/policy.ts). */
const BYPASS_NODEV = ['CAP_MKNOD', 'CAP_SYS_ADMIN'];

/**
 * When no device program can be attached (`why`: no cgroup v2 group, bpf() refused), what
 * the config's device list would have denied must not become reachable: refuse if the
 * container could make or mount nodes (CAP_MKNOD, CAP_SYS_ADMIN), or if tsbox itself
 * would make a node in /dev that the list denies. null: running without a program is
 * still what config.json asked (no list to enforce beyond nodev, or "allow all").
 */
export function refuseWithoutDevicePolicy(plan: { devices: DevicesPlan; bounding: readonly string[] }, why: string): OciSpecError | null {
  const { rules } = plan.devices;
  if (rules === null) return null;
  const hint = 'Run where tsbox can attach a device program to the container\'s cgroup v2 group (root, cgroup2 mounted, bpf() allowed).';
  const caps = BYPASS_NODEV.filter((c) => plan.bounding.includes(c));
  if (caps.length > 0) {
    return new OciSpecError(CONFIG_FILE, 'linux.resources.devices', `cannot be enforced (${why}), and with ${caps.join(' and ')} the container could make or mount device nodes the list denies`, hint);
  }
  const denied = plan.devices.create ? plan.devices.nodes.find((n) => !nodeAllowed(rules, n)) : undefined;
  if (denied) return new OciSpecError(CONFIG_FILE, 'linux.devices', `/${denied.target} is denied by linux.resources.devices, which cannot be enforced (${why})`, hint);
  return null;
}
