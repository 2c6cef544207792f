/**
 * Deciding, before anything is created, whether the requested limits can be enforced here,
 * and saying why not in one line. Pure.
 */
import { UsageError } from '../errors.js';

export interface CgroupHostFacts {
  /** The cgroup2 mount point, or null when none is mounted. */
  mount: string | null;
  /** Whether we may create groups there (root, or a delegated hierarchy). */
  writable: boolean;
  /** Controllers the cgroup2 root offers (its cgroup.controllers). */
  available: ReadonlySet<string>;
  /** Controllers bound to a cgroup v1 hierarchy, with its mount point. */
  boundToV1: ReadonlyMap<string, string>;
}

/**
 * What to do: 'none' (run without a group: nothing was asked and there is nowhere to make
 * one), 'create', or a UsageError to throw. `needed` maps each required controller to the
 * flags that asked for it.
 */
export function decideCgroup(facts: CgroupHostFacts, needed: ReadonlyMap<string, string[]>): 'none' | 'create' | UsageError {
  const flags = [...needed.values()].flat();
  if (facts.mount === null || !facts.writable) {
    if (needed.size === 0) return 'none';
    const why = facts.mount === null ? 'no cgroup v2 hierarchy is mounted on this host' : `the cgroup v2 hierarchy at ${facts.mount} is not writable (tsbox must run as root to set limits)`;
    return new UsageError(`cannot apply ${flags.join(', ')}: ${why}`, { hint: `Run without ${flags.join(', ')}, or on a host with a writable unified cgroup hierarchy.` });
  }
  for (const [controller, by] of needed) {
    if (facts.available.has(controller)) continue;
    const v1 = facts.boundToV1.get(controller);
    const why = v1 ? `it is bound to cgroup v1 at ${v1}` : 'the kernel does not offer it';
    return new UsageError(
      `${controller} controller is not available in cgroup v2 on this host (${why}); run without ${by.join(', ')} or on a host with a unified cgroup hierarchy`,
    );
  }
  return 'create';
}
