/**
 * What a container holds, as a list of typed entries in the order they were acquired, and
 * the one place that releases them: `releaseAll` walks the list newest first and calls the
 * release registered for each entry's kind. The run's own teardown, `rm` and gc (after a
 * SIGKILL at any step) all go through it, so a new kind of resource (an IP lease, a veth,
 * a port rule, an image's layers) means a new entry type here and its release in
 * container/release.ts: the Releasers type makes the compiler ask for it.
 *
 * Releases must be idempotent: an entry is recorded before (or as) it is acquired, so gc
 * may find an entry whose resource never came to exist, or was half released by a run that
 * was killed while releasing it.
 *
 * Pure: no I/O here; the registry is passed in (unit tests pass a recording one).
 */
import { z } from 'zod';
import { networkResourceSchema } from '../network/resources.js';

export const resourceSchema = z.discriminatedUnion('kind', [
  /** The container's directory (<root>/containers/<id>): lock, record, upper/work/merged, /etc files. Released last. */
  z.object({ kind: z.literal('container-dir'), path: z.string().startsWith('/') }).strict(),
  /** Its cgroup (v2), with the default parent removed once empty. */
  z.object({ kind: z.literal('cgroup'), path: z.string().startsWith('/') }).strict(),
  /** The overlay's upper and work dirs (the container's writable layer). The mount itself lives only in the container's mount namespace. */
  z.object({ kind: z.literal('overlay'), upper: z.string().startsWith('/'), work: z.string().startsWith('/') }).strict(),
  /**
   * A process the container owns: its init (held before exec while created, PID 1 while
   * running) or the monitor that holds a created/detached container. `startTime` (field 22
   * of /proc/PID/stat) tells the process from a later one that reused its pid.
   */
  z.object({ kind: z.literal('process'), role: z.enum(['init', 'monitor']), pid: z.number().int().positive(), startTime: z.string().regex(/^\d+$/) }).strict(),
  /** Its references to an image's layers in the store under `root` (image/run-layers.ts): rmi and prune keep those layers. */
  z.object({ kind: z.literal('image-layers'), root: z.string().startsWith('/'), ref: z.string().regex(/^[0-9a-z-]{1,64}$/) }).strict(),
  /** What its network attachment holds (network/resources.ts: lease, veth, published ports, bridge use), released in reverse. */
  z.object({ kind: z.literal('network'), resources: z.array(networkResourceSchema) }).strict(),
]);

export type Resource = z.infer<typeof resourceSchema>;
export type ResourceKind = Resource['kind'];

/** One release per kind; the mapped type makes a missing one a compile error. */
export type Releasers = { [K in ResourceKind]: (r: Extract<Resource, { kind: K }>) => void | Promise<void> };

export interface ReleaseFailure {
  resource: Resource;
  error: Error;
}

/** Release every entry, newest first; a failure does not stop the others (it is reported, and gc retries). */
export async function releaseAll(resources: readonly Resource[], releasers: Releasers): Promise<ReleaseFailure[]> {
  const failures: ReleaseFailure[] = [];
  for (const r of [...resources].reverse()) {
    try {
      await releaseOne(r, releasers);
    } catch (err) {
      failures.push({ resource: r, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  return failures;
}

export function releaseOne(r: Resource, releasers: Releasers): void | Promise<void> {
  return (releasers[r.kind] as (r: Resource) => void | Promise<void>)(r);
}

/** How an entry reads in a log line or an error. */
export function describeResource(r: Resource): string {
  switch (r.kind) {
    case 'container-dir':
      return `directory ${r.path}`;
    case 'cgroup':
      return `cgroup ${r.path}`;
    case 'overlay':
      return `overlay layer ${r.upper}`;
    case 'process':
      return `${r.role} process ${r.pid}`;
    case 'network':
      return `network (${r.resources.map((n) => n.kind).join(', ')})`;
    case 'image-layers':
      return `image layer reference ${r.ref}`;
  }
}

/** Add an entry unless the same one is already recorded (a retried step records once). */
export function withResource(list: readonly Resource[], r: Resource): Resource[] {
  const key = JSON.stringify(r);
  return list.some((x) => JSON.stringify(x) === key) ? [...list] : [...list, r];
}
