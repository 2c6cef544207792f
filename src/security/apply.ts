/**
 * Applies a SecurityPlan in the container's init, right before execve, with the real
 * system calls. The order and the decisions live in apply-steps.ts.
 */
import { setgid, setgroups, setuid } from '../sys/process.js';
import { ambientClearAll, ambientRaise, capbsetDrop, capget, capLastCap, capset, seccompSetFilter, setKeepCaps, setNoNewPrivs } from '../sys/security.js';
import { runSecuritySteps, type Credentials, type SecurityStepOptions, type SecuritySys } from './apply-steps.js';
import type { SecurityPlan } from './plan.js';

export const linuxSecuritySys: SecuritySys = {
  capLastCap,
  capget,
  capbsetDrop,
  setKeepCaps,
  setgroups,
  setgid,
  setuid,
  capset,
  ambientClearAll,
  ambientRaise,
  setNoNewPrivs,
  seccompSetFilter,
};

/**
 * Called in the container's init, after mounts/pivot_root, as the very last steps before
 * execve: drop bounding set; keepcaps; setgroups/setgid/setuid; capset; ambient;
 * no_new_privs; seccomp (last).
 */
export function applySecurityPlan(plan: SecurityPlan, creds: Credentials, opts?: SecurityStepOptions): void {
  runSecuritySteps(plan, creds, linuxSecuritySys, opts);
}
