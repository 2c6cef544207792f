/**
 * config.json's process (and `exec --process FILE`, the same object) -> what tsbox's init
 * does before execve: user and groups, umask, env, cwd, capability sets, rlimits,
 * no_new_privs, oom_score_adj, the terminal. Pure.
 *
 * Capabilities come from config.json alone, never from tsbox's docker-like defaults: the
 * engine decided them. An unknown name is dropped with a warning, as runc does (a newer
 * engine may name a capability this kernel or tsbox does not know).
 */
import { capabilityNumber, sortByBit } from '../../security/capabilities.js';
import type { CapabilitySets } from '../../security/plan.js';
import type { Fail } from './errors.js';
import type { OciProcess } from './schema.js';

/** setrlimit(2)'s resources (x86_64 numbering, asm-generic). */
export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** RLIM_INFINITY is 2^64-1, which JSON.parse rounds to 2^64: anything from 2^63 on means it. */
const INFINITY_FROM = 2 ** 63;

export type RlimitValue = number | 'unlimited';

export interface RlimitPlan {
  type: string;
  resource: number;
  soft: RlimitValue;
  hard: RlimitValue;
}

export interface OciProcessPlan {
  args: string[];
  env: string[];
  /** Absolute, normalised container path; the executor resolves it in the root. */
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[]; umask: number | null };
  terminal: boolean;
  consoleSize: { height: number; width: number } | null;
  capabilities: CapabilitySets;
  noNewPrivileges: boolean;
  rlimits: RlimitPlan[];
  /** null: leave the runtime's own value (inherited). */
  oomScoreAdj: number | null;
}

/** `prefix`: 'process' in config.json; '' for `exec --process FILE`, where the process is the whole document. */
export function planProcess(p: OciProcess, fail: Fail, warnings: string[], prefix = 'process'): OciProcessPlan {
  const at = (path: string) => (prefix ? `${prefix}.${path}` : path);
  const args = p.args ?? [];
  if (args.length === 0) throw fail(at('args'), 'is empty: there is no command to run');
  if (args[0] === '') throw fail(at('args[0]'), 'the command name is empty');
  if (!p.cwd.startsWith('/')) throw fail(at('cwd'), `'${p.cwd}' is not an absolute path`);
  const env = p.env ?? [];
  env.forEach((e, i) => {
    // runc refuses these too: a variable without '=' or with an empty name cannot be set.
    if (e.indexOf('=') <= 0) throw fail(at(`env[${i}]`), `'${e}' is not NAME=VALUE`);
  });
  if (p.oomScoreAdj !== null && p.oomScoreAdj !== undefined && (p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000)) {
    throw fail(at('oomScoreAdj'), 'must be from -1000 to 1000');
  }
  if (p.user.umask !== null && p.user.umask !== undefined && p.user.umask > 0o777) throw fail(at('user.umask'), 'must be from 0 to 0777 (511)');
  if (p.apparmorProfile) warnings.push(at(`apparmorProfile '${p.apparmorProfile}' ignored: tsbox does not support AppArmor`));
  if (p.selinuxLabel) warnings.push(at(`selinuxLabel '${p.selinuxLabel}' ignored: tsbox does not support SELinux`));
  if (p.ioPriority) warnings.push(at('ioPriority ignored: tsbox does not set I/O priorities yet'));
  if (p.scheduler) warnings.push(at('scheduler ignored: tsbox does not set scheduling policies yet'));
  if (p.execCPUAffinity) warnings.push(at('execCPUAffinity ignored: tsbox does not set CPU affinity yet'));

  return {
    args,
    env,
    cwd: normaliseCwd(p.cwd),
    user: { uid: p.user.uid, gid: p.user.gid, additionalGids: p.user.additionalGids ?? [], umask: p.user.umask ?? null },
    terminal: p.terminal ?? false,
    consoleSize: p.consoleSize ?? null,
    capabilities: planCapabilities(p.capabilities ?? {}, warnings, at('capabilities')),
    noNewPrivileges: p.noNewPrivileges ?? false,
    rlimits: planRlimits(p.rlimits ?? [], fail, at),
    oomScoreAdj: p.oomScoreAdj ?? null,
  };
}

function normaliseCwd(cwd: string): string {
  const parts: string[] = [];
  for (const part of cwd.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

const SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

export function planCapabilities(caps: Partial<Record<(typeof SETS)[number], string[] | null | undefined>>, warnings: string[], where: string): CapabilitySets {
  const unknown = new Set<string>();
  const sets = {} as CapabilitySets;
  for (const set of SETS) {
    const names = (caps[set] ?? []).filter((name) => {
      if (capabilityNumber(name) !== undefined) return true;
      unknown.add(name);
      return false;
    });
    sets[set] = sortByBit(names);
  }
  if (unknown.size > 0) warnings.push(`${where}: unknown capabilities ignored: ${[...unknown].sort().join(', ')}`);
  return sets;
}

function planRlimits(list: NonNullable<OciProcess['rlimits']>, fail: Fail, at: (path: string) => string): RlimitPlan[] {
  const seen = new Set<string>();
  return list.map((r, i) => {
    const where = at(`rlimits[${i}]`);
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw fail(`${where}.type`, `unknown rlimit '${r.type}'; expected one of ${Object.keys(RLIMITS).join(', ')}`);
    // The spec: a runtime MUST refuse a type given twice.
    if (seen.has(r.type)) throw fail(`${where}.type`, `${r.type} is given twice`);
    seen.add(r.type);
    const soft = r.soft >= INFINITY_FROM ? 'unlimited' : r.soft;
    const hard = r.hard >= INFINITY_FROM ? 'unlimited' : r.hard;
    if (hard !== 'unlimited' && (soft === 'unlimited' || soft > hard)) throw fail(where, `the soft limit (${r.soft}) is above the hard limit (${r.hard})`);
    return { type: r.type, resource, soft, hard };
  });
}
