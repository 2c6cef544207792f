/**
 * The process settings the init and the exec-init apply before the command starts
 * (ProcessPlan's rlimits, additionalGids/additionalGroupNames, umask, oomScoreAdj; decided by
 * spec/process-settings.ts or an OCI config). Each runs at its own moment of the story:
 *
 *   oom_score_adj   first, before anything of the container's is mounted: /proc/self is then
 *                   the host's procfs, with nothing of the image on the path; inherited by
 *                   everything we exec or spawn. Lowering it needs CAP_SYS_RESOURCE.
 *   groups          with the user, from the container's /etc/group (users.ts).
 *   rlimits         in two steps. Before security, the hard limits the plan raises are
 *                   raised (that needs CAP_SYS_RESOURCE, which the capabilities step may drop),
 *                   nothing lowered. Then, last before exec (or the exec-init's spawn), every
 *                   limit as planned: only lowering is left, which needs no privilege. Not all
 *                   at once before security: the init is Node, whose heap grows by mmap, and an
 *                   `as` or `data` limit below Node's own footprint (hundreds of MB of address
 *                   space) would kill it at its next allocation, not the command it becomes.
 *   umask           with the last step: after every file the init creates in the root (mount
 *                   targets, the working directory), so that their modes are not the user's.
 */
import { TsboxError } from '../errors.js';
import { ulimitName } from '../spec/ulimit.js';
import { RLIMIT } from '../sys/rlimit-flags.js';
import { parseGroup, resolveUser, type ResolvedUser } from './users.js';
import type { ProcessPlan, RlimitPlan } from './protocol.js';

export interface ProcessSettingsSys {
  getRlimit(resource: number): { soft: RlimitPlan['soft']; hard: RlimitPlan['hard'] };
  /** pid: another process (the exec-init's command); 0 or absent: this one. */
  setRlimit(resource: number, soft: RlimitPlan['soft'], hard: RlimitPlan['hard'], pid?: number): void;
  setUmask(mask: number): void;
  setOomScoreAdj(value: number): void;
}

export function applyOomScoreAdj(p: ProcessPlan, sys: ProcessSettingsSys): void {
  if (p.oomScoreAdj === undefined) return;
  try {
    sys.setOomScoreAdj(p.oomScoreAdj);
  } catch (err) {
    const denied = (err as { code?: string }).code === 'EACCES';
    throw new TsboxError(`cannot set --oom-score-adj ${p.oomScoreAdj}: ${(err as Error).message}`, {
      hint: denied ? 'Lowering it below tsbox\'s own needs CAP_SYS_RESOURCE, which tsbox does not have here.' : 'Give a value from -1000 to 1000.',
      cause: err,
    });
  }
}

/** a > b, 'unlimited' being above every number. */
function above(a: RlimitPlan['hard'], b: RlimitPlan['hard']): boolean {
  return a === 'unlimited' ? b !== 'unlimited' : b !== 'unlimited' && a > b;
}

/** Before security: each hard limit the plan raises, raised now (the soft ones untouched). */
export function raiseHardLimits(p: ProcessPlan, sys: ProcessSettingsSys): void {
  for (const l of p.rlimits ?? []) {
    const current = sys.getRlimit(l.resource);
    if (above(l.hard, current.hard)) setOne(l, () => sys.setRlimit(l.resource, current.soft, l.hard));
  }
}

/** The limits Node itself cannot go on under once they are below its footprint. */
const STARVING = new Set<number>([RLIMIT.AS, RLIMIT.DATA]);

/**
 * Last before exec: every rlimit as planned, in the plan's order (raiseHardLimits ran), then
 * the umask. leaveToChild (the exec-init, which lives on beside the command and spawns it
 * with an mmap'd stack): `as` and `data` are left for applyChildLimits.
 */
export function applyLimitsAndUmask(p: ProcessPlan, sys: ProcessSettingsSys, opts: { leaveToChild?: boolean } = {}): void {
  for (const l of p.rlimits ?? []) {
    if (opts.leaveToChild && STARVING.has(l.resource)) continue;
    setOne(l, () => sys.setRlimit(l.resource, l.soft, l.hard));
  }
  if (p.umask !== undefined) sys.setUmask(p.umask);
}

/**
 * The exec-init's command: `as` and `data` set on it once spawned (posix_spawn returns once
 * it has exec'd: its first instructions run without them, which is as close as a process
 * that must itself stay above them can do). Lowering only, with the command's own uids.
 */
export function applyChildLimits(pid: number, p: ProcessPlan, sys: ProcessSettingsSys): void {
  for (const l of p.rlimits ?? []) {
    if (STARVING.has(l.resource)) setOne(l, () => sys.setRlimit(l.resource, l.soft, l.hard, pid));
  }
}

function setOne(l: RlimitPlan, set: () => void): void {
  try {
    set();
  } catch (err) {
    const code = (err as { code?: string }).code;
    const nrOpen = l.resource === 7 ? ' (and nofile\'s cannot exceed the kernel\'s fs.nr_open)' : '';
    const hint = code === 'EPERM' ? `Raising a hard limit above tsbox's own needs CAP_SYS_RESOURCE${nrOpen}.` : 'Check the values given to --ulimit.';
    throw new TsboxError(`cannot set --ulimit ${ulimitName(l.resource)}=${l.soft}:${l.hard}: ${(err as Error).message}`, { hint, cause: err });
  }
}

/**
 * The user's groups plus the plan's (docker: --group-add after the groups /etc/group gives
 * the user). A name must be in the container's /etc/group, as docker requires. Pure.
 */
export function withAddedGroups(user: ResolvedUser, p: ProcessPlan, groupText: string | null): ResolvedUser {
  if (p.exactGroups) return { ...user, additionalGids: [...new Set(p.additionalGids ?? [])] };
  const names = p.additionalGroupNames ?? [];
  if (names.length === 0 && (p.additionalGids ?? []).length === 0) return user;
  const groups = names.length > 0 ? parseGroup(groupText) : [];
  const byName = names.map((name) => {
    const entry = groups.find((g) => g.name === name);
    if (!entry) throw new TsboxError(`--group-add: group '${name}' not found in the container's /etc/group`, { hint: 'Use a numeric GID (--group-add 1234), or add the group to the image.' });
    return entry.gid;
  });
  return { ...user, additionalGids: [...new Set([...user.additionalGids, ...(p.additionalGids ?? []), ...byName])] };
}

/** -u (resolved in the container's /etc/passwd and /etc/group) with the plan's added groups. */
export function resolveProcessUser(p: ProcessPlan, readEtcFile: (path: string) => string | null): ResolvedUser {
  const groupText = readEtcFile('/etc/group');
  return withAddedGroups(resolveUser(p.user, readEtcFile('/etc/passwd'), groupText), p, groupText);
}
