/**
 * Test helpers for the seccomp tests: an independent, straightforward statement of what a
 * SeccompProfile means (written from the documented semantics, not from the compiler), and
 * a way to run compiled programs through the BPF interpreter.
 */
import { decodeProgram } from '../../src/security/bpf.js';
import { runProgram, validateProgram, type SeccompData } from '../../src/security/bpf-interpret.js';
import { compileSeccomp } from '../../src/security/seccomp-compile.js';
import { actionValue, describeReturnValue, type ArgCondition, type SeccompProfile } from '../../src/security/seccomp-profile.js';

export const ARCH_X86_64 = 0xc000003e;
export const ARCH_I386 = 0x40000003;
export const ARCH_AARCH64 = 0xc00000b7;

const U64 = (1n << 64n) - 1n;

export function holds(c: ArgCondition, arg: bigint): boolean {
  switch (c.op) {
    case 'eq': return arg === c.value;
    case 'ne': return arg !== c.value;
    case 'lt': return arg < c.value;
    case 'le': return arg <= c.value;
    case 'gt': return arg > c.value;
    case 'ge': return arg >= c.value;
    case 'masked-eq': return (arg & (c.mask ?? U64)) === c.value;
  }
}

/** What the filter of `profile` must return for `data`, as a SECCOMP_RET_* value. */
export function expectedReturn(profile: SeccompProfile, data: SeccompData): number {
  const kill = 0x80000000;
  if (data.arch >>> 0 !== ARCH_X86_64) return kill;
  const nr = data.nr >>> 0;
  const allowsByDefault = profile.defaultAction.kind === 'allow' || profile.defaultAction.kind === 'log';
  if (nr >= 0x40000000 && nr !== 0xffffffff) return kill;
  if (nr > profile.knownUpTo && !allowsByDefault) return (0x00050000 | 38) >>> 0;
  const args = [0, 1, 2, 3, 4, 5].map((i) => BigInt.asUintN(64, BigInt(data.args?.[i] ?? 0)));
  const rules = profile.rules.filter((r) => r.nr === nr);
  const conditional = rules.filter((r) => r.when.length > 0);
  const matched = conditional.find((r) => r.when.every((c) => holds(c, args[c.arg]!))) ?? rules.find((r) => r.when.length === 0);
  return actionValue(matched?.action ?? profile.defaultAction);
}

export interface Compiled {
  bytes: Buffer;
  run(data: SeccompData): number;
  /** "allow", "errno(1)", "kill-process"... */
  outcome(data: SeccompData): string;
}

export function compile(profile: SeccompProfile): Compiled {
  const bytes = compileSeccomp(profile);
  const program = decodeProgram(bytes);
  validateProgram(program);
  const run = (data: SeccompData) => runProgram(program, data);
  return { bytes, run, outcome: (data) => describeReturnValue(run(data)) };
}

/** A deterministic pseudo-random generator, so that failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/** 64-bit values near `v`, in its high or low half, and random ones: where comparisons go wrong. */
export function valuesAround(v: bigint, random: () => number): bigint[] {
  const r32 = () => BigInt(Math.floor(random() * 0x100000000));
  const near = [v - 1n, v, v + 1n, v ^ (1n << 32n), v + (1n << 32n), v - (1n << 32n), v ^ 0xffffffffn, v & 0xffffffffn, v | 0xffffffff00000000n];
  const randoms = Array.from({ length: 6 }, () => (r32() << 32n) | r32());
  return [...near, ...randoms, 0n, U64].map((x) => BigInt.asUintN(64, x));
}
