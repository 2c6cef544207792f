/**
 * What `tsbox exec` runs, decided from the container's spec and the exec's flags. Pure.
 * docker's rules: the container's environment with -e on top (a name given again keeps
 * its place), the container's user and working directory unless -u / -w say otherwise,
 * the container's process settings (rlimits, --group-add, umask, oom_score_adj),
 * and always the container's security plan: an exec gets no more privilege than the
 * container's own process.
 */
import { posix } from 'node:path';
import { UsageError } from '../errors.js';
import type { ExecPlan } from '../init/exec-protocol.js';
import { checkUserSpec } from '../init/users.js';
import { mergeEnv, parseEnvAssignment } from '../spec/parse.js';
import { INHERITED_PROCESS_SETTINGS, processPlanSettings } from '../spec/process-settings.js';
import type { RunSpec } from '../spec/run-spec.js';

export interface ExecFlags {
  command: string[];
  env: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  debug: boolean;
  /** false with --no-openat2 (testing only). */
  openat2?: boolean;
}

export function planExec(spec: Pick<RunSpec, 'process' | 'security'> & Partial<Pick<RunSpec, 'processSettings'>>, flags: ExecFlags, hostEnv: Record<string, string | undefined>): ExecPlan {
  if (flags.command.length === 0 || flags.command[0] === '') {
    throw new UsageError('tsbox exec needs a command', { hint: 'For example: tsbox exec NAME ps.' });
  }
  if (flags.user !== undefined) checkUserSpec(flags.user);
  const cwd = flags.workdir ?? spec.process.cwd;
  if (!cwd.startsWith('/')) throw new UsageError(`invalid -w '${cwd}': the working directory must be an absolute path`, { hint: 'For example -w /tmp.' });
  const extra = flags.env.map((e) => parseEnvAssignment(e, hostEnv)).filter((e): e is string => e !== null);
  return {
    process: {
      args: flags.command,
      env: mergeEnv(spec.process.env, extra),
      cwd: posix.normalize(cwd),
      user: flags.user ?? spec.process.user,
      // docker's exec gets the container's rlimits and --group-add groups (also with -u), and
      // podman's its umask; its OOM preference too, as runc's exec does.
      ...processPlanSettings(spec.processSettings ?? INHERITED_PROCESS_SETTINGS),
    },
    security: spec.security,
    tty: flags.tty,
    debug: flags.debug,
    ...(flags.openat2 === false ? { openat2: false } : {}),
  };
}
