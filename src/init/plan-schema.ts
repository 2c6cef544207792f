/**
 * The plans the parent sends the init and the exec-init, checked when they arrive: the init
 * acts on nothing it has not validated (a plan of another tsbox version, or a bug in the
 * parent, fails at `start init` with the field it is about, instead of being misread
 * halfway through the mounts). The schemas follow the types in protocol.ts and
 * exec-protocol.ts; `satisfies` keeps them from drifting apart at compile time.
 */
import { z } from 'zod';
import type { MountStep } from '../mounts/plan.js';
import type { SecurityPlan } from '../security/plan.js';
import type { ExecPlan } from './exec-protocol.js';
import type { InitPlan, ParentMessage, ProcessPlan } from './protocol.js';

const create = z.enum(['dir', 'file']);
const uint = z.number().int().nonnegative();

const mountStep = z.discriminatedUnion('op', [
  z.object({ op: z.literal('mount'), fstype: z.string(), source: z.string(), target: z.string(), flags: uint, data: z.string().optional(), create }).strict(),
  z.object({ op: z.literal('bind'), source: z.string(), target: z.string(), readOnly: z.boolean(), create, flags: uint.optional() }).strict(),
  z.object({ op: z.literal('mknod'), target: z.string(), major: uint, minor: uint, mode: uint, owner: z.object({ uid: uint, gid: uint }).strict().optional() }).strict(),
  z.object({ op: z.literal('symlink'), target: z.string(), linkTo: z.string() }).strict(),
  z.object({ op: z.literal('mask'), target: z.string() }).strict(),
  z.object({ op: z.literal('readonly'), target: z.string() }).strict(),
]) satisfies z.ZodType<MountStep>;

const names = z.array(z.string());
const securityPlan = z.object({
  capabilities: z.union([z.literal('all'), z.object({ bounding: names, effective: names, permitted: names, inheritable: names, ambient: names }).strict()]),
  noNewPrivileges: z.boolean(),
  seccomp: z.object({
    filter: z.string().base64(),
    rules: uint,
    instructions: uint,
    defaultAction: z.string(),
    flags: uint,
    source: z.string(),
    skippedNames: names,
  }).strict().nullable(),
}).strict() satisfies z.ZodType<SecurityPlan>;

const processPlan = z.object({
  args: z.array(z.string()).min(1),
  env: names,
  cwd: z.string().startsWith('/'),
  user: z.string().nullable(),
}).strict() satisfies z.ZodType<ProcessPlan>;

const absolute = z.string().startsWith('/');

export const initPlanSchema = z.object({
  containerId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/),
  rootfs: z.union([
    z.object({ lower: absolute, upper: absolute, work: absolute, merged: absolute, readOnly: z.boolean(), nodev: z.boolean() }).strict(),
    z.object({ kind: z.literal('bind'), path: absolute, readOnly: z.boolean(), nodev: z.boolean() }).strict(),
  ]),
  hostname: z.string(),
  mounts: z.array(mountStep),
  process: processPlan,
  security: securityPlan.nullable(),
  debug: z.boolean(),
  tty: z.boolean().optional(),
  init: z.boolean().optional(),
  openat2: z.boolean().optional(),
  hold: z.object({ fifo: absolute }).strict().optional(),
  cgroupNamespace: z.boolean().optional(),
  loopback: z.boolean().optional(),
  sysctl: z.array(z.object({ file: z.string().regex(/^[A-Za-z0-9_.\/-]+$/).refine((f) => !f.split('/').includes('..'), 'must stay under /proc/sys'), value: z.string() }).strict()).optional(),
  rlimits: z.array(z.object({ resource: uint, soft: z.union([uint, z.literal('unlimited')]), hard: z.union([uint, z.literal('unlimited')]) }).strict()).optional(),
  additionalGids: z.array(uint).optional(),
  umask: uint.max(0o777).optional(),
}).strict() satisfies z.ZodType<InitPlan>;

export const execPlanSchema = z.object({
  process: processPlan,
  security: securityPlan.nullable(),
  tty: z.boolean(),
  debug: z.boolean(),
  openat2: z.boolean().optional(),
  detached: z.boolean().optional(),
}).strict() satisfies z.ZodType<ExecPlan>;

export const parentMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('pty'), index: uint }).strict(),
  // the create/start sync point (init/protocol.ts)
  z.object({ t: z.literal('start') }).strict(),
]) satisfies z.ZodType<ParentMessage>;

/** Parse one line the parent sent; a bad one names its first wrong field. */
export function parsePlanLine<T>(schema: z.ZodType<T>, line: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(`the ${what} from tsbox is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`invalid ${what} from tsbox: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
