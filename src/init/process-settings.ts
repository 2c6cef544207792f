/**
 * The process settings the init and the exec-init apply before the command starts
 * (ProcessPlan's rlimits, additionalGids/additionalGroupNames, umask, oomScoreAdj; decided by
 * spec/process-settings.ts or an OCI config). Each runs at its own moment of the story:
 *
 *   oom_score_adj   first, before anything of the container's is mounted: /proc/self is then
 *                   the host's procfs, with nothing of the image on the path; inherited by
 *                   everything we exec or spawn. Lowering it needs CAP_SYS_RESOURCE.
 *   groups          with the user, from the container's /etc/group (users.ts).
 *   rlimits, umask  last before security: raising a hard limit needs CAP_SYS_RESOURCE, which
 *                   the capabilities step may drop; and after every file the init creates
 *                   in the root (mount targets, the working directory), so the user's umask
 *                   does not change their modes.
 */
import { TsboxError } from '../errors.js';
import { ulimitName } from '../spec/ulimit.js';
import { parseGroup, resolveUser, type ResolvedUser } from './users.js';
import type { ProcessPlan, RlimitPlan } from './protocol.js';

export interface ProcessSettingsSys {
  setRlimit(resource: number, soft: RlimitPlan['soft'], hard: RlimitPlan['hard']): void;
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

/** Rlimits in the plan's order, then the umask. */
export function applyLimitsAndUmask(p: ProcessPlan, sys: ProcessSettingsSys): void {
  for (const l of p.rlimits ?? []) {
    try {
      sys.setRlimit(l.resource, l.soft, l.hard);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const hint = code === 'EPERM' ? (l.resource === 7 ? 'A nofile hard limit cannot exceed the kernel\'s fs.nr_open.' : 'Raising a hard limit needs CAP_SYS_RESOURCE.') : 'Check the values given to --ulimit.';
      throw new TsboxError(`cannot set --ulimit ${ulimitName(l.resource)}=${l.soft}:${l.hard}: ${(err as Error).message}`, { hint, cause: err });
    }
  }
  if (p.umask !== undefined) sys.setUmask(p.umask);
}

/**
 * The user's groups plus the plan's (docker: --group-add after the groups /etc/group gives
 * the user). A name must be in the container's /etc/group, as docker requires. Pure.
 */
export function withAddedGroups(user: ResolvedUser, p: ProcessPlan, groupText: string | null): ResolvedUser {
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
