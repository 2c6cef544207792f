/**
 * SeccompProfile → classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER). Pure.
 *
 * The program, in the order it runs:
 *   1. arch != AUDIT_ARCH_X86_64            → kill the process (syscall numbers would mean other calls)
 *   2. nr >= 0x40000000 (the x32 ABI)        → kill the process (same reason: a second numbering),
 *      except nr == -1 (no syscall at all), which goes on to 3.
 *   3. nr > profile.knownUpTo                → ENOSYS, unless the default action allows
 *   4. a binary search over the syscall numbers that have rules (A holds nr throughout);
 *      each leaf compares a few numbers and jumps to that syscall's rule chain;
 *   5. a rule chain tests 64-bit arguments as two 32-bit halves and returns the action of the
 *      first rule that matches, else the syscall's fallback (its unconditional rule or the default).
 */
import { UsageError } from '../errors.js';
import { BackwardProgram, type Target } from './bpf-builder.js';
import { encodeProgram, MAX_INSTRUCTIONS, OP, SECCOMP_DATA, type Instruction } from './bpf.js';
import { actionValue, ERRNO, RET, sameAction, type ArgCondition, type SeccompProfile, type SeccompRule } from './seccomp-profile.js';

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const X32_SYSCALL_BIT = 0x40000000;
const NO_SYSCALL = 0xffffffff;

/** Syscalls compared linearly in one leaf of the search tree. */
const LEAF_SIZE = 4;

export function compileSeccomp(profile: SeccompProfile): Buffer {
  return encodeProgram(compileSeccompProgram(profile));
}

export function compileSeccompProgram(profile: SeccompProfile): Instruction[] {
  const p = new BackwardProgram();
  const defaultRet = actionValue(profile.defaultAction);
  const syscalls = groupBySyscall(profile);

  // Emitted last-first: the dispatch tree sits at the end, the header at the start.
  const dispatch = syscalls.length ? emitTree(p, syscalls, defaultRet) : p.ret(defaultRet);
  const newerThanProfile = profile.defaultAction.kind === 'allow' || profile.defaultAction.kind === 'log'
    ? dispatch
    : p.jump(OP.JGT_K, profile.knownUpTo, { ret: (RET.ERRNO | ERRNO.ENOSYS) >>> 0 }, dispatch);
  // nr -1 is no syscall (a tracer's way to skip one); the kernel answers ENOSYS, so may we.
  const x32OrSkip = p.jump(OP.JEQ_K, NO_SYSCALL, newerThanProfile, { ret: RET.KILL_PROCESS });
  p.jump(OP.JGE_K, X32_SYSCALL_BIT, x32OrSkip, newerThanProfile);
  p.stmt(OP.LD_ABS_W, SECCOMP_DATA.nr);
  p.jump(OP.JEQ_K, AUDIT_ARCH_X86_64, p.next, { ret: RET.KILL_PROCESS });
  p.stmt(OP.LD_ABS_W, SECCOMP_DATA.arch);

  const program = p.finish();
  if (program.length > MAX_INSTRUCTIONS) {
    throw new UsageError(`the seccomp profile compiles to ${program.length} BPF instructions; the kernel accepts at most ${MAX_INSTRUCTIONS}`, {
      hint: 'Use fewer argument conditions, or merge rules that share an action.',
    });
  }
  return program;
}

interface SyscallRules {
  nr: number;
  /** Conditional rules, in profile order; tried first. */
  conditional: SeccompRule[];
  /** Return value when no conditional rule matches. */
  fallback: number;
}

/** One entry per syscall whose outcome differs from the default action, sorted by number. */
function groupBySyscall(profile: SeccompProfile): SyscallRules[] {
  const byNr = new Map<number, SeccompRule[]>();
  for (const rule of profile.rules) {
    if (!Number.isInteger(rule.nr) || rule.nr < 0 || rule.nr >= X32_SYSCALL_BIT) throw new Error(`internal: bad syscall number ${rule.nr} for ${rule.syscall}`);
    for (const c of rule.when) checkCondition(rule, c);
    byNr.set(rule.nr, [...(byNr.get(rule.nr) ?? []), rule]);
  }
  const out: SyscallRules[] = [];
  for (const [nr, rules] of byNr) {
    const unconditional = rules.find((r) => r.when.length === 0);
    const fallback = unconditional ?? { action: profile.defaultAction };
    const conditional = rules.filter((r) => r.when.length > 0);
    // Trailing conditional rules with the fallback's own action change nothing (earlier ones may:
    // they shadow later rules with other actions).
    while (conditional.length && sameAction(conditional[conditional.length - 1]!.action, fallback.action)) conditional.pop();
    if (conditional.length === 0 && sameAction(fallback.action, profile.defaultAction)) continue;
    out.push({ nr, conditional, fallback: actionValue(fallback.action) });
  }
  return out.sort((a, b) => a.nr - b.nr);
}

function checkCondition(rule: SeccompRule, c: ArgCondition): void {
  const max = (1n << 64n) - 1n;
  const ok = Number.isInteger(c.arg) && c.arg >= 0 && c.arg <= 5 && c.value >= 0n && c.value <= max && (c.mask === undefined || (c.mask >= 0n && c.mask <= max));
  if (!ok) throw new Error(`internal: bad argument condition for ${rule.syscall}: ${JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

/** Binary search on nr over syscalls[lo, hi). Returns the tree's first instruction. */
function emitTree(p: BackwardProgram, syscalls: SyscallRules[], defaultRet: number, lo = 0, hi = syscalls.length): Target {
  if (hi - lo <= LEAF_SIZE) return emitLeaf(p, syscalls.slice(lo, hi), defaultRet);
  const mid = (lo + hi) >>> 1;
  const upper = emitTree(p, syscalls, defaultRet, mid, hi);
  const lower = emitTree(p, syscalls, defaultRet, lo, mid);
  return p.jump(OP.JGE_K, syscalls[mid]!.nr, upper, lower);
}

/** `nr == a ? rules(a) : nr == b ? rules(b) : ... : default`. */
function emitLeaf(p: BackwardProgram, leaf: SyscallRules[], defaultRet: number): Target {
  const bodies = leaf.map((s) => emitRules(p, s));
  let otherwise: Target = { ret: defaultRet };
  for (let i = leaf.length - 1; i >= 0; i--) {
    otherwise = p.jump(OP.JEQ_K, leaf[i]!.nr, bodies[i]!, otherwise);
  }
  return otherwise;
}

/** The rule chain of one syscall; a plain return (no code) when it has no conditions. */
function emitRules(p: BackwardProgram, s: SyscallRules): Target {
  let nextRule: Target = { ret: s.fallback };
  for (let i = s.conditional.length - 1; i >= 0; i--) {
    const rule = s.conditional[i]!;
    let pass: Target = { ret: actionValue(rule.action) };
    for (let j = rule.when.length - 1; j >= 0; j--) pass = emitCondition(p, rule.when[j]!, pass, nextRule);
    nextRule = pass;
  }
  return nextRule;
}

const hi32 = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const lo32 = (v: bigint) => Number(v & 0xffffffffn);

/**
 * One 64-bit comparison, as two 32-bit ones: the high halves decide unless they are equal,
 * then the low halves do. BPF's JGT/JGE compare unsigned, as seccomp's arguments are.
 */
function emitCondition(p: BackwardProgram, c: ArgCondition, pass: Target, fail: Target): Target {
  const [vh, vl] = [hi32(c.value), lo32(c.value)];
  const loadHigh = () => p.stmt(OP.LD_ABS_W, SECCOMP_DATA.argHigh(c.arg));
  const loadLow = () => p.stmt(OP.LD_ABS_W, SECCOMP_DATA.argLow(c.arg));

  switch (c.op) {
    case 'eq':
    case 'ne': {
      const [match, differ] = c.op === 'eq' ? [pass, fail] : [fail, pass];
      p.jump(OP.JEQ_K, vl, match, differ);
      loadLow();
      p.jump(OP.JEQ_K, vh, p.next, differ);
      return loadHigh();
    }
    case 'masked-eq': {
      const mask = c.mask ?? 0xffffffffffffffffn;
      p.jump(OP.JEQ_K, vl, pass, fail);
      p.stmt(OP.AND_K, lo32(mask));
      loadLow();
      p.jump(OP.JEQ_K, vh, p.next, fail);
      p.stmt(OP.AND_K, hi32(mask));
      return loadHigh();
    }
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      // lt is "not ge", le is "not gt": same code, outcomes swapped.
      const [above, notAbove] = c.op === 'gt' || c.op === 'ge' ? [pass, fail] : [fail, pass];
      const lowTest = c.op === 'gt' || c.op === 'le' ? OP.JGT_K : OP.JGE_K;
      p.jump(lowTest, vl, above, notAbove);
      loadLow();
      p.jump(OP.JEQ_K, vh, p.next, notAbove);
      p.jump(OP.JGT_K, vh, above, p.next);
      return loadHigh();
    }
  }
}
