/**
 * docker's --device HOST[:CONTAINER][:ACCESS]: give the container a node for one host
 * device and allow it in the device policy. Pure: the host node's stat is given.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { DeviceNode } from '../mounts/plan.js';
import { canonicalAccess, type DeviceRule } from './rules.js';

export interface DeviceRequest {
  hostPath: string;
  /** Where the node goes in the container: under /dev. */
  containerPath: string;
  /** Some of "rwm". */
  access: string;
}

/** A device node tsbox makes in the container's /dev (mounts/plan.ts), and what the policy allows on it (r, w, m). */
export interface ContainerDevice extends DeviceNode {
  access: string;
}

/**
 * /dev is the only place in the container where device nodes work: the rootfs and volumes
 * are mounted nodev. These names under it are tsbox's own (mount points and links).
 */
const RESERVED = ['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/ptmx', '/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr'];

/** Built on first use, as rules.ts's: most runs give no --device. */
let flagSchemaBuilt: ReturnType<typeof buildFlagSchema> | undefined;
const flagSchema = () => (flagSchemaBuilt ??= buildFlagSchema());

const buildFlagSchema = () => z
  .string()
  .min(1, 'empty')
  .transform((s) => s.split(':'))
  .refine((parts) => parts.length <= 3, 'expected HOST[:CONTAINER][:ACCESS]')
  .transform((parts) => {
    // docker: a second field that reads as an access mode is one ("/dev/x:rw").
    const [host, second, third] = parts as [string, string?, string?];
    if (parts.length === 2 && canonicalAccess(second!) !== null) return { host, container: host, given: false, access: second! };
    return { host, container: second ?? host, given: second !== undefined, access: third ?? 'rwm' };
  })
  .superRefine((d, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    if (!d.host.startsWith('/')) return fail(`the host path '${d.host}' is not absolute`);
    if (!d.container.startsWith('/')) return fail(`the container path '${d.container}' is not absolute`);
    const container = posix.normalize(d.container);
    if (!container.startsWith('/dev/')) {
      const which = d.given ? `the container path ${d.container}` : `${d.host} (the container path, when none is given)`;
      return fail(`${which} is not under /dev, where the container's device nodes must be (the rest of its filesystem is mounted nodev)`);
    }
    if (RESERVED.some((r) => container === r || container.startsWith(`${r}/`))) return fail(`${container} is tsbox's own (a mount point or link in the container's /dev)`);
    if (canonicalAccess(d.access) === null) return fail(`the access '${d.access}' is not a combination of r, w and m`);
  })
  .transform((d): DeviceRequest => ({ hostPath: posix.normalize(d.host), containerPath: posix.normalize(d.container), access: canonicalAccess(d.access)! }));

export function parseDeviceFlag(text: string): DeviceRequest {
  const parsed = flagSchema().safeParse(text);
  if (!parsed.success) {
    throw new UsageError(`invalid --device '${text}': ${parsed.error.issues[0]!.message}`, {
      hint: 'Use --device HOST[:CONTAINER][:ACCESS], e.g. --device /dev/loop0 or --device /dev/sdb:/dev/xvdb:r.',
    });
  }
  return parsed.data;
}

/** What stat(2) says about the host path (it follows symlinks, as docker does for /dev/disk/by-id/...). */
export interface HostNodeStat {
  kind: 'char' | 'block' | 'other';
  mode: number;
  rdev: number;
  uid: number;
  gid: number;
}

/** Linux's dev_t as glibc's major()/minor() split it. */
export function splitDeviceNumber(rdev: number): { major: number; minor: number } {
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return { major, minor };
}

export function containerDevice(req: DeviceRequest, st: HostNodeStat): ContainerDevice {
  if (st.kind === 'other') {
    throw new UsageError(`invalid --device '${req.hostPath}': it is not a device node`, { hint: 'Name a character or block device, e.g. /dev/loop0.' });
  }
  const { major, minor } = splitDeviceNumber(st.rdev);
  return { path: req.containerPath, type: st.kind === 'char' ? 'c' : 'b', major, minor, permissions: st.mode & 0o777, uid: st.uid, gid: st.gid, access: req.access };
}

/** Several --device flags: one node per container path. */
export function checkDistinctPaths(devices: readonly ContainerDevice[]): void {
  const seen = new Set<string>();
  for (const d of devices) {
    if (seen.has(d.path)) throw new UsageError(`invalid --device: ${d.path} is given twice`, { hint: 'Give each container path once.' });
    seen.add(d.path);
  }
}

/** The policy's rule for a --device: that one device, with the access given. */
export function ruleForDevice(d: ContainerDevice): DeviceRule {
  return { type: d.type, major: d.major, minor: d.minor, access: d.access };
}
