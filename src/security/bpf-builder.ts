/**
 * Builds a classic BPF program from its last instruction to its first. Why backwards:
 * every jump in BPF goes forward, so when a jump is written its target already exists and
 * its distance is known. A target more than 255 instructions away cannot be reached by a
 * conditional jump (8-bit offsets); the builder then places, right after the jump, either
 * a copy of the target (when it is a `return`) or a long jump (JA, 32-bit offset) to it.
 */
import { MAX_SHORT_JUMP, OP, type Instruction } from './bpf.js';

/** Position of an emitted instruction, counted from the end of the program. */
export type Label = number & { readonly __label: unique symbol };

/** Where a jump goes: an emitted instruction, or "a return of this value" (any copy will do). */
export type Target = { at: Label } | { ret: number };

export class BackwardProgram {
  /** Instructions in reverse order: reversed[0] is the program's last instruction. */
  private readonly reversed: Instruction[] = [];
  /** Where the nearest (most recently emitted) `return k` is, per k. */
  private readonly returns = new Map<number, Label>();

  get length(): number {
    return this.reversed.length;
  }

  /** The instruction emitted last, i.e. the one right after whatever is emitted next. */
  get next(): Target {
    if (this.reversed.length === 0) throw new Error('no instruction emitted yet');
    return { at: (this.reversed.length - 1) as Label };
  }

  ret(k: number): { at: Label } {
    const label = this.push({ code: OP.RET_K, jt: 0, jf: 0, k: k >>> 0 });
    this.returns.set(k >>> 0, label);
    return { at: label };
  }

  stmt(code: number, k: number): Target {
    return { at: this.push({ code, jt: 0, jf: 0, k: k >>> 0 }) };
  }

  /** A conditional jump: `if (A <op> k) goto whenTrue else goto whenFalse`. */
  jump(code: number, k: number, whenTrue: Target, whenFalse: Target): Target {
    // Reserve room for up to two stubs before deciding what is near: each stub moves the jump one further.
    const t = this.reachable(whenTrue, 2);
    const f = this.reachable(whenFalse, 2);
    return { at: this.push({ code, jt: this.offsetTo(t), jf: this.offsetTo(f), k: k >>> 0 }) };
  }

  /** The finished program, first instruction first. */
  finish(): Instruction[] {
    return [...this.reversed].reverse();
  }

  private push(insn: Instruction): Label {
    this.reversed.push(insn);
    return (this.reversed.length - 1) as Label;
  }

  /** Offset from an instruction about to be pushed now to `label`. */
  private offsetTo(label: Label): number {
    const offset = this.reversed.length - label - 1;
    if (offset < 0 || offset > MAX_SHORT_JUMP) throw new Error(`internal: jump offset ${offset} out of range`);
    return offset;
  }

  /** A label a jump pushed within `slack` instructions from now can reach with an 8-bit offset. */
  private reachable(target: Target, slack: number): Label {
    const near = (label: Label) => this.reversed.length + slack - label - 1 <= MAX_SHORT_JUMP;
    if ('ret' in target) {
      const existing = this.returns.get(target.ret >>> 0);
      if (existing !== undefined && near(existing)) return existing;
      return this.ret(target.ret).at;
    }
    if (near(target.at)) return target.at;
    // Long jump stub: JA's offset is 32 bits.
    return this.push({ code: OP.JA, jt: 0, jf: 0, k: this.reversed.length - target.at - 1 });
  }
}
