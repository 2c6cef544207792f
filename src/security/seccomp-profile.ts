/**
 * tsbox's own representation of a seccomp profile, for x86_64 only: the compiler's input.
 * Both the default profile and docker JSON profiles are turned into this.
 *
 * Semantics (what the compiled filter does for a syscall of the native ABI):
 *  - the rules of a syscall are tried in order, rules with conditions first, then the first
 *    unconditional one; the first rule whose conditions all hold decides;
 *  - no rule matches: the default action;
 *  - a syscall number above `knownUpTo` (newer than the profile): ENOSYS, so that libc
 *    falls back to an older call, unless the default action already lets it through.
 */

export type SeccompAction =
  | { kind: 'allow' }
  | { kind: 'errno'; errno: number }
  | { kind: 'kill-process' }
  | { kind: 'kill-thread' }
  | { kind: 'trap' }
  | { kind: 'trace'; data: number }
  | { kind: 'log' };

export type ArgOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'masked-eq';

/** A test on one 64-bit syscall argument. masked-eq: (arg & mask) == value. */
export interface ArgCondition {
  arg: number;
  op: ArgOp;
  value: bigint;
  mask?: bigint;
}

export interface SeccompRule {
  syscall: string;
  nr: number;
  action: SeccompAction;
  /** All must hold (AND). An empty list matches every call. */
  when: ArgCondition[];
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  rules: SeccompRule[];
  /** The newest syscall number the profile was written against. */
  knownUpTo: number;
  /** seccomp(2) flags, e.g. SECCOMP_FILTER_FLAG_LOG. */
  flags: number;
}

export const ERRNO = { EPERM: 1, ENOSYS: 38 } as const;

/** The values a filter returns (SECCOMP_RET_*). */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  /** The action part of a return value; the rest is data (errno, trace data). */
  ACTION_FULL: 0xffff0000,
  DATA: 0x0000ffff,
} as const;

export function actionValue(action: SeccompAction): number {
  switch (action.kind) {
    case 'allow': return RET.ALLOW;
    case 'errno': return (RET.ERRNO | (action.errno & RET.DATA)) >>> 0;
    case 'kill-process': return RET.KILL_PROCESS;
    case 'kill-thread': return RET.KILL_THREAD;
    case 'trap': return RET.TRAP;
    case 'trace': return (RET.TRACE | (action.data & RET.DATA)) >>> 0;
    case 'log': return RET.LOG;
  }
}

/** For logs and the plan: "allow", "errno(1)", "kill-process". */
export function describeAction(action: SeccompAction): string {
  switch (action.kind) {
    case 'errno': return `errno(${action.errno})`;
    case 'trace': return `trace(${action.data})`;
    default: return action.kind;
  }
}

/** The reverse of actionValue, for the BPF interpreter and --debug. */
export function describeReturnValue(value: number): string {
  const data = value & RET.DATA;
  switch ((value & RET.ACTION_FULL) >>> 0) {
    case RET.KILL_PROCESS: return 'kill-process';
    case RET.KILL_THREAD: return 'kill-thread';
    case RET.TRAP: return 'trap';
    case RET.ERRNO: return `errno(${data})`;
    case RET.TRACE: return `trace(${data})`;
    case RET.LOG: return 'log';
    case RET.ALLOW: return 'allow';
    default: return `unknown(0x${value.toString(16)})`;
  }
}

export function sameAction(a: SeccompAction, b: SeccompAction): boolean {
  return actionValue(a) === actionValue(b);
}
