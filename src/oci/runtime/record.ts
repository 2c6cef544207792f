/**
 * The record tsbox-runtime keeps per container (state.json under the state root), and its
 * check when read back.
 *
 * Why a structural check (init/shape.ts) and not zod: every engine call (state, start,
 * kill, delete: several per container) reads this record in a fresh Node process, and
 * zod alone was ~130 KB of the bundle those calls load and its schemas built at each
 * start. The record is not user input: create writes it from an already validated
 * config.json, in a directory only root can write (0700). The check is there so that a
 * damaged or foreign file is refused as "damaged", never half-read; that needs structure.
 */
import { array, boolean, nullable, object, optional, ShapeError, string, type Shape } from '../../init/shape.js';

/** A positive integer (a pid). */
const pid: Shape<number> = (v, path) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ShapeError(path, 'Expected a positive integer');
  return v;
};

/** Strings keyed by strings (annotations). */
const stringMap: Shape<Record<string, string>> = (v, path) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(path, 'Expected object');
  for (const [k, x] of Object.entries(v)) string()(x, [...path, k]);
  return v as Record<string, string>;
};

/** The literal true (a flag that is present or absent). */
const onlyTrue: Shape<true> = (v, path) => {
  if (v !== true) throw new ShapeError(path, 'Invalid literal value, expected true');
  return true;
};

const hook = object({
  path: string({ startsWith: '/' }),
  args: array(string(), 1),
  env: array(string()),
  timeoutSeconds: nullable(pid),
});

const recordShape = object({
  ociVersion: string(),
  id: string(),
  bundle: string(),
  rootfs: string(),
  pid,
  /** Field 22 of /proc/PID/stat when created: a pid reused by another process does not match. */
  pidStartTime: string(),
  created: string(),
  cgroup: nullable(string()),
  /** Parent groups this container's create made (removed on delete when empty). */
  cgroupParents: array(string()),
  annotations: stringMap,
  /** A process.terminal container (its start needs nothing more; kept for state's readers). */
  terminal: boolean,
  /** config.json's poststart and poststop hooks (oci/spec/hooks.ts): start and delete run them. */
  hooks: optional(object({ poststart: array(hook), poststop: array(hook) })),
  /**
   * Written by create before the init's setup begins, cleared when it is done: while its
   * init lives the container is "creating"; a create that died part way leaves it "stopped",
   * for delete to remove (its group, its poststop hooks).
   */
  creating: optional(onlyTrue),
});

export type ContainerRecord = ReturnType<typeof recordShape>;

/** The record, or null when `value` is not one (a field missing, of the wrong type, or unknown). */
export function parseRecord(value: unknown): ContainerRecord | null {
  try {
    return recordShape(value, []);
  } catch (err) {
    if (err instanceof ShapeError) return null;
    throw err;
  }
}
