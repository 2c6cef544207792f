/**
 * The process settings of docker's and podman's run flags that the init applies before
 * exec (init/process-settings.ts): --ulimit (spec/ulimit.ts), --group-add, --oom-score-adj,
 * --umask. Part of the container's config, and inherited by `tsbox exec`, as docker's exec
 * gets the container's rlimits and --group-add groups. Pure.
 */
import { UsageError } from '../errors.js';
import type { ProcessPlan, RlimitPlan } from '../init/protocol.js';
import { parseUlimits } from './ulimit.js';

export interface ProcessSettings {
  /** --ulimit; [] inherits tsbox's own limits (docker: the daemon's). */
  rlimits: RlimitPlan[];
  /** --group-add with a number. */
  additionalGids: number[];
  /** --group-add with a name, looked up in the container's /etc/group when it starts. */
  additionalGroupNames: string[];
  /** --umask; null: inherit (containers made before the flag existed). */
  umask: number | null;
  /** --oom-score-adj; null: inherit tsbox's own. */
  oomScoreAdj: number | null;
}

/** podman's default: files the command creates are not writable by group and others. */
export const DEFAULT_UMASK = 0o022;

/** What a container made before these flags gets: everything inherited, as it was then. */
export const INHERITED_PROCESS_SETTINGS: ProcessSettings = { rlimits: [], additionalGids: [], additionalGroupNames: [], umask: null, oomScoreAdj: null };

const ID_MAX = 0xfffffffe; // (gid_t)-1 means "unchanged" and is never a group

export function parseGroupAdd(text: string): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > ID_MAX) throw new UsageError(`invalid --group-add '${text}': ${text} is out of range`, { hint: 'A GID is 0 to 4294967294.' });
    return n;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(text)) {
    throw new UsageError(`invalid --group-add '${text}': not a GID nor a group name`, { hint: 'Use --group-add GID or --group-add NAME (a group of the image\'s /etc/group).' });
  }
  return text;
}

export function parseOomScoreAdj(value: string | number): number {
  const text = String(value);
  const n = /^-?\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < -1000 || n > 1000) {
    throw new UsageError(`invalid --oom-score-adj '${text}': expected a whole number from -1000 to 1000`, { hint: 'For example --oom-score-adj 500 (more likely killed first) or -500 (less likely).' });
  }
  return n;
}

export function parseUmask(text: string): number {
  if (!/^[0-7]{1,4}$/.test(text) || parseInt(text, 8) > 0o777) {
    throw new UsageError(`invalid --umask '${text}': expected an octal mask from 0000 to 0777`, { hint: 'For example --umask 0077 (new files readable by their owner only).' });
  }
  return parseInt(text, 8);
}

export interface ProcessSettingsFlags {
  ulimits: readonly string[];
  groupAdd: readonly string[];
  oomScoreAdj?: string | number;
  umask?: string;
}

export function parseProcessSettings(flags: ProcessSettingsFlags): ProcessSettings {
  const groups = flags.groupAdd.map(parseGroupAdd);
  return {
    rlimits: parseUlimits(flags.ulimits),
    additionalGids: [...new Set(groups.filter((g): g is number => typeof g === 'number'))],
    additionalGroupNames: [...new Set(groups.filter((g): g is string => typeof g === 'string'))],
    umask: flags.umask === undefined ? DEFAULT_UMASK : parseUmask(flags.umask),
    oomScoreAdj: flags.oomScoreAdj === undefined ? null : parseOomScoreAdj(flags.oomScoreAdj),
  };
}

type ProcessPlanSettings = Pick<ProcessPlan, 'rlimits' | 'additionalGids' | 'additionalGroupNames' | 'umask' | 'oomScoreAdj'>;

/** The plan's fields for these settings: what is inherited is left out (older inits read the rest). */
export function processPlanSettings(s: ProcessSettings): ProcessPlanSettings {
  return {
    ...(s.rlimits.length > 0 ? { rlimits: s.rlimits } : {}),
    ...(s.additionalGids.length > 0 ? { additionalGids: s.additionalGids } : {}),
    ...(s.additionalGroupNames.length > 0 ? { additionalGroupNames: s.additionalGroupNames } : {}),
    ...(s.umask !== null ? { umask: s.umask } : {}),
    ...(s.oomScoreAdj !== null ? { oomScoreAdj: s.oomScoreAdj } : {}),
  };
}
