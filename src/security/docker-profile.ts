/**
 * docker's seccomp JSON profile format (as `docker run --security-opt seccomp=FILE` reads
 * it) → SeccompProfile for x86_64. zod checks the shape; the conversion applies docker's
 * meaning of each field:
 *  - includes/excludes: a rule applies only if the container holds every `includes.caps`,
 *    none of `excludes.caps`, the machine's arch is in `includes.arches` (docker's names:
 *    amd64) and not in `excludes.arches`, and the kernel is at least `includes.minKernel`;
 *  - conditions in one rule are ANDed, except that when one argument is tested more than
 *    once, each condition becomes a rule of its own (ORed), as runc does;
 *  - SCMP_CMP_MASKED_EQ: `value` is the mask, `valueTwo` the expected value;
 *  - SCMP_ACT_ERRNO without errnoRet: EPERM (defaultErrnoRet for the default action);
 *  - names that x86_64 does not have (chown32, arm_fadvise64_64...) are skipped: profiles
 *    list every architecture's syscalls.
 * Architectures other than x86_64 are accepted and ignored: the filter always checks for
 * x86_64 and kills anything else (including the i386 and x32 ABIs).
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { x86_64SyscallNumber, X86_64_SYSCALLS } from './syscalls-x86_64.js';
import { ERRNO, type ArgCondition, type ArgOp, type SeccompAction, type SeccompProfile, type SeccompRule } from './seccomp-profile.js';
import type { KernelVersion } from './seccomp-default.js';

const ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'] as const;
const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

type DockerAction = (typeof ACTIONS)[number];
type DockerOp = (typeof OPS)[number];

/** Go's encoding/json leaves absent and null fields empty: accept both. */
const list = <T extends z.ZodTypeAny>(item: T) => z.array(item).nullish();
const u64 = z.number().int('must be a whole number').nonnegative('must not be negative');
const errnoRet = z.number().int('must be a whole number').min(0, 'must not be negative').max(0xffff, 'must be at most 65535');

const filterSchema = z
  .object({
    caps: list(z.string()),
    arches: list(z.string()),
    minKernel: z.string().regex(/^\d+(\.\d+){0,2}$/, 'must be a kernel version such as "4.8"').nullish(),
  })
  .strict();

const argSchema = z
  .object({
    index: z.number().int().min(0, 'must be 0-5').max(5, 'must be 0-5 (syscalls have six arguments)'),
    value: u64.default(0),
    valueTwo: u64.default(0),
    op: z.enum(OPS),
  })
  .strict();

const syscallSchema = z
  .object({
    name: z.string().min(1).nullish(),
    names: list(z.string().min(1)),
    action: z.enum(ACTIONS),
    errnoRet: errnoRet.nullish(),
    args: list(argSchema),
    comment: z.string().nullish(),
    includes: filterSchema.nullish(),
    excludes: filterSchema.nullish(),
  })
  .strict()
  .refine((s) => Boolean(s.name) || (s.names?.length ?? 0) > 0, { message: 'needs "names" (a list of syscall names) or "name"' });

export const dockerProfileSchema = z
  .object({
    defaultAction: z.enum(ACTIONS),
    defaultErrnoRet: errnoRet.nullish(),
    architectures: list(z.string()),
    archMap: list(z.object({ architecture: z.string(), subArchitectures: list(z.string()) }).strict()),
    syscalls: list(syscallSchema),
    flags: list(z.string()),
    listenerPath: z.string().nullish(),
    listenerMetadata: z.string().nullish(),
  })
  .strict();

export type DockerProfile = z.infer<typeof dockerProfileSchema>;

export interface DockerProfileContext {
  /** The container's bounding set, canonical names ("CAP_SYS_ADMIN"). */
  caps: ReadonlySet<string>;
  kernel: KernelVersion;
}

export interface ConvertedProfile {
  profile: SeccompProfile;
  /** Syscall names the profile uses that x86_64 does not have. */
  skippedNames: string[];
}

export function parseDockerProfile(json: unknown, source: string): DockerProfile {
  const result = dockerProfileSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? `${formatPath(issue.path)}: ` : '';
  throw new UsageError(`seccomp profile ${source}: ${where}${issue.message}`, { hint: PROFILE_HINT });
}

const PROFILE_HINT = 'tsbox reads docker\'s seccomp profile format ({"defaultAction": ..., "syscalls": [{"names": [...], "action": ..., "args": [...]}]}); fix the file, or pass --security-opt seccomp=unconfined to run without a filter.';

export function dockerProfileToSeccomp(json: unknown, source: string, ctx: DockerProfileContext): ConvertedProfile {
  const docker = parseDockerProfile(json, source);
  const fail = (where: string, what: string) => new UsageError(`seccomp profile ${source}: ${where}: ${what}`, { hint: PROFILE_HINT });

  if (docker.listenerPath) throw fail('listenerPath', 'seccomp agents (SCMP_ACT_NOTIFY) are not supported by tsbox');
  let flags = 0;
  for (const [i, flag] of (docker.flags ?? []).entries()) {
    const bit = FLAGS[flag];
    if (bit === undefined) throw fail(`flags[${i}]`, `unknown flag "${flag}"; tsbox knows ${Object.keys(FLAGS).join(', ')}`);
    flags |= bit;
  }

  const defaultAction = convertAction(docker.defaultAction, docker.defaultErrnoRet, (what) => fail('defaultAction', what));
  const rules: SeccompRule[] = [];
  const skipped = new Set<string>();
  let knownUpTo = -1;

  for (const [i, entry] of (docker.syscalls ?? []).entries()) {
    const where = `syscalls[${i}]`;
    const names = [...(entry.names ?? []), ...(entry.name ? [entry.name] : [])];
    const numbered = names.flatMap((name) => {
      const nr = x86_64SyscallNumber(name);
      if (nr === undefined) skipped.add(name);
      else knownUpTo = Math.max(knownUpTo, nr);
      return nr === undefined ? [] : [{ name, nr }];
    });
    const action = convertAction(entry.action, entry.errnoRet, (what) => fail(where, what));
    if (!applies(entry.includes, entry.excludes, ctx, (what) => fail(where, what))) continue;
    const alternatives = conditionSets((entry.args ?? []).map(convertArg));
    for (const { name, nr } of numbered) for (const when of alternatives) rules.push({ syscall: name, nr, action, when });
  }

  // A profile that names no syscall of this machine knows as much as tsbox's table does.
  if (knownUpTo < 0) knownUpTo = Math.max(...Object.values(X86_64_SYSCALLS));
  return { profile: { defaultAction, rules, knownUpTo, flags }, skippedNames: [...skipped].sort() };
}

function convertAction(action: DockerAction, errnoRet: number | null | undefined, fail: (what: string) => Error): SeccompAction {
  if (errnoRet != null && action !== 'SCMP_ACT_ERRNO' && action !== 'SCMP_ACT_TRACE') {
    throw fail(`errnoRet is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${action}`);
  }
  switch (action) {
    case 'SCMP_ACT_ALLOW': return { kind: 'allow' };
    case 'SCMP_ACT_ERRNO': return { kind: 'errno', errno: errnoRet ?? ERRNO.EPERM };
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return { kind: 'kill-thread' };
    case 'SCMP_ACT_KILL_PROCESS': return { kind: 'kill-process' };
    case 'SCMP_ACT_TRAP': return { kind: 'trap' };
    case 'SCMP_ACT_TRACE': return { kind: 'trace', data: errnoRet ?? ERRNO.EPERM };
    case 'SCMP_ACT_LOG': return { kind: 'log' };
    case 'SCMP_ACT_NOTIFY': throw fail('SCMP_ACT_NOTIFY needs a seccomp agent, which tsbox does not support');
  }
}

const OP_MAP: Record<DockerOp, ArgOp> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked-eq',
};

function convertArg(arg: z.infer<typeof argSchema>): ArgCondition {
  const op = OP_MAP[arg.op];
  return op === 'masked-eq'
    ? { arg: arg.index, op, mask: toU64(arg.value), value: toU64(arg.valueTwo) }
    : { arg: arg.index, op, value: toU64(arg.value) };
}

/**
 * JSON numbers are doubles: 0xffffffffffffffff arrives as 2^64. That is the only value
 * above the range that a real profile writes, so it is read as the all-ones it meant.
 */
function toU64(n: number): bigint {
  const max = (1n << 64n) - 1n;
  const v = BigInt(n);
  return v > max ? max : v;
}

/** [[a, b]] when the conditions test different arguments (a AND b); [[a], [b]] when some argument repeats (a OR b). */
function conditionSets(conds: ArgCondition[]): ArgCondition[][] {
  const indexes = conds.map((c) => c.arg);
  const repeats = new Set(indexes).size !== indexes.length;
  return repeats ? conds.map((c) => [c]) : [conds];
}

type Filter = z.infer<typeof filterSchema> | null | undefined;

const NATIVE_ARCH_NAMES = new Set(['amd64', 'x86_64', 'scmp_arch_x86_64']);

function applies(includes: Filter, excludes: Filter, ctx: DockerProfileContext, fail: (what: string) => Error): boolean {
  const hasCap = (c: string) => ctx.caps.has(canonicalCap(c));
  const isNative = (a: string) => NATIVE_ARCH_NAMES.has(a.toLowerCase());
  if (includes?.caps?.length && !includes.caps.every(hasCap)) return false;
  if (includes?.arches?.length && !includes.arches.some(isNative)) return false;
  if (includes?.minKernel && compareKernel(ctx.kernel, parseKernel(includes.minKernel)) < 0) return false;
  if (excludes?.caps?.some(hasCap)) return false;
  if (excludes?.arches?.some(isNative)) return false;
  if (excludes?.minKernel) throw fail('excludes.minKernel is not meaningful; use includes.minKernel');
  return true;
}

function canonicalCap(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** "6.18.44-fc-v595" → {6, 18, 44}. */
export function parseKernel(release: string): KernelVersion {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(release);
  if (!m) throw new Error(`cannot read a kernel version from "${release}"`);
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0) };
}

function compareKernel(a: KernelVersion, b: KernelVersion): number {
  return a.major - b.major || a.minor - b.minor || (a.patch ?? 0) - (b.patch ?? 0);
}

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const ACTION_NAMES: Record<SeccompAction['kind'], DockerAction> = {
  'allow': 'SCMP_ACT_ALLOW',
  'errno': 'SCMP_ACT_ERRNO',
  'kill-process': 'SCMP_ACT_KILL_PROCESS',
  'kill-thread': 'SCMP_ACT_KILL_THREAD',
  'trap': 'SCMP_ACT_TRAP',
  'trace': 'SCMP_ACT_TRACE',
  'log': 'SCMP_ACT_LOG',
};

function dockerAction(action: SeccompAction): { action: DockerAction; errnoRet?: number } {
  if (action.kind === 'errno') return { action: ACTION_NAMES.errno, errnoRet: action.errno };
  if (action.kind === 'trace') return { action: ACTION_NAMES.trace, errnoRet: action.data };
  return { action: ACTION_NAMES[action.kind] };
}

/**
 * A SeccompProfile written in docker's format, e.g. to show or save tsbox's default profile.
 * Consecutive rules with the same action and conditions share one entry. Values above 2^53 cannot
 * be written exactly as JSON numbers; tsbox's own profiles have none. The format cannot say up
 * to which syscall the profile was reviewed: read back, the ENOSYS boundary is the highest
 * syscall it names.
 */
export function seccompProfileToDocker(profile: SeccompProfile): DockerProfile {
  type Entry = NonNullable<DockerProfile['syscalls']>[number];
  const entries: Entry[] = [];
  let lastKey = '';
  for (const rule of profile.rules) {
    if (new Set(rule.when.map((c) => c.arg)).size !== rule.when.length) {
      throw new Error(`${rule.syscall}: docker's format cannot test one argument twice in a rule (it would mean OR)`);
    }
    const { action, errnoRet } = dockerAction(rule.action);
    const args = rule.when.map((c) => {
      const op = (Object.keys(OP_MAP) as DockerOp[]).find((k) => OP_MAP[k] === c.op)!;
      return c.op === 'masked-eq'
        ? { index: c.arg, value: Number(c.mask ?? (1n << 64n) - 1n), valueTwo: Number(c.value), op }
        : { index: c.arg, value: Number(c.value), valueTwo: 0, op };
    });
    // Only consecutive rules are merged: the order of a syscall's rules is part of its meaning.
    const key = JSON.stringify([action, errnoRet, args]);
    if (key === lastKey) entries[entries.length - 1]!.names!.push(rule.syscall);
    else entries.push({ names: [rule.syscall], action, ...(errnoRet === undefined ? {} : { errnoRet }), ...(args.length ? { args } : {}) });
    lastKey = key;
  }
  const { action: defaultAction, errnoRet: defaultErrnoRet } = dockerAction(profile.defaultAction);
  return {
    defaultAction,
    ...(defaultErrnoRet === undefined ? {} : { defaultErrnoRet }),
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: entries,
  };
}
