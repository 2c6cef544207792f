/**
 * Which rootfs cache entries containers use, and which may go. Pure.
 *
 * A container uses the entry its record names (imageDigest), whatever its status: like
 * docker, an image is not removed from under a stopped container that may be inspected.
 * A container still starting has no digest recorded yet; the entry it is about to use was
 * touched (or made) after its record was created, so every entry used since the oldest
 * starting container's creation counts as in use too.
 */
import type { ContainerRecord } from './state/record.js';

export interface CacheEntryFacts {
  digest: string;
  lastUsed: Date | null;
}

type RecordFacts = Pick<ContainerRecord, 'shortId' | 'name' | 'imageDigest' | 'status' | 'created'>;

/** digest -> the containers (name, or short id) using it. */
export function imageUsers(records: readonly RecordFacts[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const r of records) {
    if (r.imageDigest === null) continue;
    users.set(r.imageDigest, [...(users.get(r.imageDigest) ?? []), r.name ?? r.shortId]);
  }
  return users;
}

/** Why an entry must stay, or null when nothing uses it. */
export function entryInUse(entry: CacheEntryFacts, records: readonly RecordFacts[]): string | null {
  const users = imageUsers(records).get(entry.digest);
  if (users) return `used by ${users.length === 1 ? 'container' : 'containers'} ${users.join(', ')}`;
  const starting = records.filter((r) => (r.status === 'creating' || r.status === 'created') && r.imageDigest === null).map((r) => Date.parse(r.created));
  if (starting.length > 0 && entry.lastUsed !== null && entry.lastUsed.getTime() >= Math.min(...starting)) {
    return 'possibly being used by a container that is starting';
  }
  return null;
}

/**
 * A digest as the user typed it: "sha256:<hex>", "<hex>", or a unique prefix of either,
 * among the digests present. Returns the full digest, or an error message.
 */
export function resolveDigest(text: string, digests: readonly string[]): { digest: string } | { error: string } {
  const hex = text.startsWith('sha256:') ? text.slice(7) : text;
  if (!/^[0-9a-f]+$/.test(hex)) return { error: `not a digest: ${text}` };
  const matches = digests.filter((d) => d.slice(7).startsWith(hex));
  if (matches.length === 1) return { digest: matches[0]! };
  if (matches.length === 0) return { error: `no such rootfs cache entry: ${text}` };
  return { error: `'${text}' matches ${matches.length} cache entries` };
}
