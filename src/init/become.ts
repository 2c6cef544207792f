/**
 * The tail both inits share, from a resolved process to the user's command running: drop to
 * the container's user and security, then hand over. The container's init becomes the
 * command by execve (handover.ts); the exec-init, which must stay outside the container's
 * PID namespace, starts it with posix_spawn and waits (spawn-command.ts). Which one is the
 * story's to pass: the container's init bundle never loads the spawner.
 */
import { applySecurityPlan } from '../security/apply.js';
import type { SecurityPlan } from '../security/index.js';
import { clearCloexec, cloexecFrom } from '../sys/fd.js';
import { PR, prctl } from '../sys/process.js';
import { TsboxError } from '../errors.js';
import { switchUser } from './credentials.js';
import type { InitSteps } from './init-steps.js';
import type { ResolvedUser } from './users.js';
import type { ProcessPlan } from './protocol.js';
import { applyLimitsAndUmask, raiseHardLimits } from './process-settings.js';
import { linuxProcessSettingsSys } from './linux-settings-sys.js';

/**
 * 'all': this process becomes the command by execve; every thread gets the filter (TSYNC).
 * 'calling': the command is spawned from this thread, which alone drops (the child is cloned
 * from it and inherits exactly its state); the process stays host root's otherwise.
 */
export type DropScope = 'all' | 'calling';

/**
 * Credentials, capabilities, no_new_privs and seccomp, in that order (security/apply.ts);
 * seccomp last so that everything before it may still use the syscalls it forbids.
 */
export function dropPrivileges(steps: InitSteps, processPlan: ProcessPlan, security: SecurityPlan | null, user: ResolvedUser, scope: DropScope): void {
  // Hard limits above ours need CAP_SYS_RESOURCE, which the plan may drop (process-settings.ts).
  steps.step('raise hard rlimits', () => raiseHardLimits(processPlan, linuxProcessSettingsSys));
  steps.step('apply security', () => {
    if (security) applySecurityPlan(security, { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }, { threads: scope });
    else switchUser(user);
    if (scope === 'calling') {
      // A change of euid resets the mm's dumpable flag to fs.suid_dumpable and clears the
      // parent-death signal: non-dumpable must hold again before a child shares our memory.
      prctl(PR.SET_DUMPABLE, 0);
      if (prctl(PR.GET_DUMPABLE) !== 0) throw new TsboxError('the exec-init could not make itself non-dumpable');
    }
  });
}

/**
 * The command's rlimits and umask, last: Node could not live under the command's `as` or
 * `data` limit (process-settings.ts), so the exec-init leaves those to its child. Nothing of
 * ours reaches the command but its stdio: Node marks fds 0-2 close-on-exec, and the command
 * needs them; every other fd (the sync socket included) is close-on-exec from here on. Then
 * `launch` execs the command (and never returns), or spawns it and leaves the waiting to the
 * event loop.
 */
export function handOver<T>(steps: InitSteps, processPlan: ProcessPlan, scope: DropScope, launch: () => T): T {
  steps.step('set rlimits and umask', () => applyLimitsAndUmask(processPlan, linuxProcessSettingsSys, { leaveToChild: scope === 'calling' }));
  steps.current = 'exec';
  for (const fd of [0, 1, 2]) clearCloexec(fd);
  cloexecFrom(3);
  return launch();
}
