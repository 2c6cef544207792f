/**
 * A small structural checker for the messages the parent sends the init and the exec-init
 * (plan-schema.ts): strict objects, strings, booleans, non-negative integers, literals,
 * arrays, nullable and optional fields, unions told apart by one field.
 *
 * Why not zod here: the init is a Node process started for every container, and every
 * module it loads is paid at each start. zod made the init's bundle 3.6x larger (50 ->
 * 182 KB) and its first parse of a plan cost several ms on the container's critical path
 * (the init is waiting for nothing else then). What crosses this socket is not input from
 * a user: it is a plan built and typed by the same tsbox build (runtime/run.ts), over a
 * private socketpair no other process holds. The check is there so that a plan the init
 * would misread (another tsbox version, a bug in the parent) fails at `start init` naming
 * its field, and that needs structure, not zod. User input keeps being validated with zod
 * in the parent, before any plan is made.
 *
 * A failed check throws ShapeError with the path of the first wrong field and zod's words
 * for it ("Required", "Expected string, received number", "Unrecognized key(s)..."), so
 * messages read as before.
 */

export class ShapeError extends Error {
  constructor(readonly path: (string | number)[], message: string) {
    super(message);
  }
}

/** Checks a value and returns it typed; throws ShapeError naming the first wrong field. */
export type Shape<T> = (value: unknown, path: (string | number)[]) => T;
export type Infer<S> = S extends Shape<infer T> ? T : never;

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const fail = (path: (string | number)[], message: string): never => {
  throw new ShapeError(path, message);
};
const expected = (what: string, v: unknown, path: (string | number)[]): never =>
  fail(path, v === undefined ? 'Required' : `Expected ${what}, received ${kind(v)}`);

export const string = (refine?: { pattern?: RegExp; startsWith?: string; message?: string }): Shape<string> => (v, path) => {
  if (typeof v !== 'string') return expected('string', v, path);
  if (refine?.pattern && !refine.pattern.test(v)) fail(path, refine.message ?? 'Invalid');
  if (refine?.startsWith !== undefined && !v.startsWith(refine.startsWith)) fail(path, `Invalid input: must start with "${refine.startsWith}"`);
  return v;
};

export const boolean: Shape<boolean> = (v, path) => (typeof v === 'boolean' ? v : expected('boolean', v, path));

/** A non-negative integer (flags, ids, device numbers). */
export const uint: Shape<number> = (v, path) => {
  if (typeof v !== 'number') return expected('number', v, path);
  if (!Number.isInteger(v)) fail(path, 'Expected integer, received float');
  if (v < 0) fail(path, 'Number must be greater than or equal to 0');
  return v;
};

export const literal = <const L extends string>(value: L): Shape<L> => (v, path) =>
  v === value ? (v as L) : fail(path, `Invalid literal value, expected "${value}"`);

export const oneOf = <const L extends string>(values: readonly L[]): Shape<L> => (v, path) =>
  values.includes(v as L) ? (v as L) : fail(path, `Invalid enum value. Expected ${values.map((x) => `'${x}'`).join(' | ')}, received ${kind(v) === 'string' ? `'${String(v)}'` : kind(v)}`);

export const array = <T>(item: Shape<T>, min = 0): Shape<T[]> => (v, path) => {
  if (!Array.isArray(v)) return expected('array', v, path);
  if (v.length < min) fail(path, `Array must contain at least ${min} element(s)`);
  return v.map((x, i) => item(x, [...path, i]));
};

export const nullable = <T>(shape: Shape<T>): Shape<T | null> => (v, path) => (v === null ? null : shape(v, path));

/** Marks a field that may be absent (an absent field stays absent in the result). */
export interface Optional<T> {
  optional: Shape<T>;
}
export const optional = <T>(shape: Shape<T>): Optional<T> => ({ optional: shape });

type Fields = Record<string, Shape<unknown> | Optional<unknown>>;
type RequiredKeys<F extends Fields> = { [K in keyof F]: F[K] extends Optional<unknown> ? never : K }[keyof F];
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends Optional<unknown> ? K : never }[keyof F];
type ObjectOf<F extends Fields> = { [K in RequiredKeys<F>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: F[K] extends Optional<infer T> ? T : never };
type Flat<T> = { [K in keyof T]: T[K] };

/** An object with exactly these fields: an unknown one is refused, as zod's .strict(). */
export const object = <F extends Fields>(fields: F): Shape<Flat<ObjectOf<F>>> => (v, path) => {
  if (kind(v) !== 'object') return expected('object', v, path);
  const input = v as Record<string, unknown>;
  const unknown = Object.keys(input).filter((k) => !Object.hasOwn(fields, k));
  if (unknown.length > 0) fail(path, `Unrecognized key(s) in object: ${unknown.map((k) => `'${k}'`).join(', ')}`);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    if (typeof field === 'function') out[key] = field(input[key], [...path, key]);
    else if (input[key] !== undefined) out[key] = field.optional(input[key], [...path, key]);
  }
  return out as Flat<ObjectOf<F>>;
};

/** One of several object shapes, chosen by the string value of field `key`. */
export const union = <M extends Record<string, Shape<unknown>>>(key: string, byValue: M): Shape<Infer<M[keyof M]>> => (v, path) => {
  if (kind(v) !== 'object') return expected('object', v, path);
  const tag = (v as Record<string, unknown>)[key];
  const shape = typeof tag === 'string' && Object.hasOwn(byValue, tag) ? byValue[tag] : undefined;
  if (!shape) return fail([...path, key], `Invalid discriminator value. Expected ${Object.keys(byValue).map((x) => `'${x}'`).join(' | ')}`);
  return shape(v, path) as Infer<M[keyof M]>;
};

export const either = <A, B>(a: Shape<A>, b: Shape<B>): Shape<A | B> => (v, path) => {
  try {
    return a(v, path);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    return b(v, path);
  }
};
