/**
 * The plans the parent sends the init and the exec-init, checked when they arrive: the init
 * acts on nothing it has not checked (a plan of another tsbox version, or a bug in the
 * parent, fails at `start init` with the field it is about, instead of being misread
 * halfway through the mounts). The shapes follow the types in protocol.ts and
 * exec-protocol.ts; the `Same` checks at the end keep them from drifting apart at compile time.
 *
 * Trust: these are not user input (that is validated with zod in the parent, before any
 * plan exists) but messages built by the same tsbox build, over a private socketpair that
 * only the parent holds; so the check is structural, with shape.ts instead of zod, which
 * the init would otherwise load at every container start (shape.ts says what that cost).
 */
import type { MountStep } from '../mounts/plan.js';
import type { SecurityPlan } from '../security/plan.js';
import type { ExecPlan } from './exec-protocol.js';
import type { InitPlan, ParentMessage, ProcessPlan } from './protocol.js';
import { array, boolean, either, literal, nullable, object, oneOf, optional, ShapeError, string, uint, union, type Infer, type Shape } from './shape.js';

const create = oneOf(['dir', 'file']);
const str = string();

const mountStep = union('op', {
  mount: object({ op: literal('mount'), fstype: str, source: str, target: str, flags: uint, data: optional(str), create }),
  bind: object({ op: literal('bind'), source: str, target: str, readOnly: boolean, create, flags: optional(uint) }),
  mknod: object({ op: literal('mknod'), target: str, major: uint, minor: uint, mode: uint, owner: optional(object({ uid: uint, gid: uint })) }),
  symlink: object({ op: literal('symlink'), target: str, linkTo: str }),
  mask: object({ op: literal('mask'), target: str }),
  readonly: object({ op: literal('readonly'), target: str }),
});

const names = array(str);
const securityPlan = object({
  capabilities: either(literal('all'), object({ bounding: names, effective: names, permitted: names, inheritable: names, ambient: names })),
  noNewPrivileges: boolean,
  seccomp: nullable(object({
    filter: string({ pattern: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, message: 'Invalid base64' }),
    rules: uint,
    instructions: uint,
    defaultAction: str,
    flags: uint,
    source: str,
    skippedNames: names,
  })),
});

/** An integer in [min, max] (oom_score_adj may be negative, which uint refuses). */
const intIn = (min: number, max: number): Shape<number> => (v, path) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ShapeError(path, `Expected integer, received ${typeof v}`);
  if (v < min || v > max) throw new ShapeError(path, `Number must be between ${min} and ${max}`);
  return v;
};
const rlimitValue = either(intIn(0, Number.MAX_SAFE_INTEGER), literal('unlimited'));

const processPlan = object({
  args: array(str, 1),
  env: names,
  cwd: string({ startsWith: '/' }),
  user: nullable(str),
  rlimits: optional(array(object({ resource: intIn(0, 15), soft: rlimitValue, hard: rlimitValue }))),
  additionalGids: optional(array(intIn(0, 0xfffffffe))),
  additionalGroupNames: optional(names),
  exactGroups: optional(boolean),
  umask: optional(intIn(0, 0o777)),
  oomScoreAdj: optional(intIn(-1000, 1000)),
});

const absolute = string({ startsWith: '/' });

const overlayRoot = object({
  lower: absolute,
  // An image's stacked layers (image/run-layers.ts); overlay takes at most 500 lowers.
  lowers: optional(nullable(object({ api: oneOf(['fsconfig', 'mount'] as const), dirs: array(absolute, 2) }))),
  upper: absolute, work: absolute, merged: absolute, readOnly: boolean, nodev: boolean,
});
const bindRoot = object({ kind: literal('bind'), path: absolute, readOnly: boolean, nodev: boolean });
/** tsbox run's overlay, or (with `kind`) tsbox-runtime's bundle root: each checked as itself, so errors name its fields. */
const rootfs: Shape<Infer<typeof overlayRoot> | Infer<typeof bindRoot>> = (v, path) =>
  typeof v === 'object' && v !== null && 'kind' in v ? bindRoot(v, path) : overlayRoot(v, path);

/** One hook (oci/spec/hooks.ts HookCommand): an absolute path, argv, NAME=VALUE env, seconds or null. */
const hookCommand = object({ path: absolute, args: array(str, 1), env: array(str), timeoutSeconds: nullable(uint) });

export const initPlanSchema = object({
  // tsbox run's 64 hex digits, or an OCI id (tsbox-runtime: letters, digits, _.+-).
  containerId: string({ pattern: /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/ }),
  rootfs,
  hostname: str,
  mounts: array(mountStep),
  process: processPlan,
  security: nullable(securityPlan),
  debug: boolean,
  tty: optional(boolean),
  init: optional(boolean),
  openat2: optional(boolean),
  shared: optional(object({ uts: boolean, cgroupns: boolean })),
  lateNetns: optional(boolean),
  sysctl: optional(array(object({ name: str, value: str }))),
  hold: optional(object({ fifo: absolute })),
  loopback: optional(boolean),
  preserveFds: optional(uint),
  hooks: optional(object({
    runtimePoint: boolean,
    createContainer: array(hookCommand),
    startContainer: array(hookCommand),
    stdin: object({ createContainer: str, startContainer: str }),
  })),
});

export const execPlanSchema = object({
  process: processPlan,
  security: nullable(securityPlan),
  tty: boolean,
  debug: boolean,
  openat2: optional(boolean),
  initPid: optional(uint),
  detached: optional(boolean),
  preserveFds: optional(uint),
});

export const parentMessageSchema = union('t', {
  pty: object({ t: literal('pty'), index: uint }),
  // the create/start sync point (init/protocol.ts)
  start: object({ t: literal('start') }),
  // after {t:"hook-point"}: the runtime's hooks ran (init/protocol.ts)
  resume: object({ t: literal('resume') }),
});

/** Parse one line the parent sent; a bad one names its first wrong field. */
export function parsePlanLine<T>(shape: Shape<T>, line: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(`the ${what} from tsbox is not JSON`);
  }
  try {
    return shape(json, []);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new Error(`invalid ${what} from tsbox: ${err.path.join('.') || '(root)'}: ${err.message}`);
  }
}

// Compile-time: each shape checks exactly its protocol type (both ways assignable).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameTypes: [
  Same<Infer<typeof initPlanSchema>, InitPlan>,
  Same<Infer<typeof execPlanSchema>, ExecPlan>,
  Same<Infer<typeof processPlan>, ProcessPlan>,
  Same<Infer<typeof securityPlan>, SecurityPlan>,
  Same<Infer<typeof mountStep>, MountStep>,
  Same<Infer<typeof parentMessageSchema>, ParentMessage>,
] = [true, true, true, true, true, true];
void sameTypes;
