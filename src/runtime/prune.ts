/**
 * Removing what nobody uses: cache entries no container record names, and (tsbox prune)
 * stopped containers. The decisions are in prune-plan.ts; each removal re-checks them
 * against fresh records, since another tsbox may have started a container meanwhile.
 */
import { listCacheEntries, removeCacheEntry, type CacheEntryInfo } from '../image/index.js';
import { entryInUse } from './prune-plan.js';
import type { StateStore } from './state/store.js';

export interface RemovedEntry {
  digest: string;
  size: number | null;
}

/** Remove one entry unless a container uses it; the reason it stays, or null once removed. */
export async function removeUnusedEntry(store: StateStore, root: string, entry: Pick<CacheEntryInfo, 'digest' | 'lastUsed'>): Promise<string | null> {
  const current = (await listCacheEntries(root)).find((e) => e.digest === entry.digest);
  if (!current) return null; // removed meanwhile
  const reason = entryInUse(current, store.list());
  if (reason) return reason;
  await removeCacheEntry(root, entry.digest);
  return null;
}

/** Every entry no container uses. */
export async function pruneCache(store: StateStore, root: string): Promise<RemovedEntry[]> {
  const removed: RemovedEntry[] = [];
  for (const entry of await listCacheEntries(root)) {
    if ((await removeUnusedEntry(store, root, entry)) === null) removed.push({ digest: entry.digest, size: entry.size });
  }
  return removed;
}

/** Records of containers that exited (and whose owner is gone): removed, as `tsbox rm` would. */
export function pruneStoppedContainers(store: StateStore): string[] {
  const removed: string[] = [];
  for (const r of store.list()) {
    if (r.status !== 'exited' || store.ownerAlive(r.shortId)) continue;
    try {
      store.remove(r.shortId);
      removed.push(r.name ?? r.shortId);
    } catch {
      // restarted or removed meanwhile: not ours to prune
    }
  }
  return removed;
}
