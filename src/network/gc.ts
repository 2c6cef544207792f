/**
 * `tsbox gc`'s network part: the leases of owners that died (SIGKILL) on every network, with
 * what they hold (port elements, host veth), under each network's lock. A run killed between
 * writing its lease and recording it in its container directory leaves a lease only this (or
 * the network's next attach) finds.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { NetContext } from './context.js';
import { withNetworkLock } from './ipam/store.js';
import { reclaimDeadLeases } from './release.js';

/** How many leases were reclaimed. Only networks with a lease directory are looked at. */
export function reclaimAllDeadLeases(ctx: NetContext): number {
  if (!existsSync(ctx.paths.leases)) return 0;
  let n = 0;
  for (const d of readdirSync(ctx.paths.leases, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    // A lease directory without a .json has nothing to reclaim: no lock taken (nor made).
    if (!readdirSync(`${ctx.paths.leases}/${d.name}`).some((f) => f.endsWith('.json'))) continue;
    n += withNetworkLock(ctx.paths, d.name, () => reclaimDeadLeases(ctx, d.name).length);
  }
  return n;
}
