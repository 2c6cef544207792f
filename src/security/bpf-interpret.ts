/**
 * A small classic-BPF interpreter over seccomp_data, for the opcodes seccomp filters use.
 * It lets the tests (and --debug) ask "what does this filter return for that call" without
 * loading anything into the kernel. It also refuses what the kernel's checker refuses:
 * unknown opcodes, jumps out of the program, unaligned or out-of-range loads, programs that
 * can fall off their end or are longer than 4096 instructions.
 */
import { MAX_INSTRUCTIONS, OP, SECCOMP_DATA, type Instruction } from './bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six 64-bit arguments; missing ones are 0. */
  args?: readonly (bigint | number)[];
}

export function encodeSeccompData(data: SeccompData): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA.size);
  buf.writeInt32LE(data.nr, SECCOMP_DATA.nr);
  buf.writeUInt32LE(data.arch >>> 0, SECCOMP_DATA.arch);
  buf.writeBigUInt64LE(data.instructionPointer ?? 0n, SECCOMP_DATA.instructionPointer);
  (data.args ?? []).forEach((a, i) => buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), SECCOMP_DATA.argLow(i)));
  return buf;
}

/** Structural checks, once per program. Throws on the first problem. */
export function validateProgram(program: readonly Instruction[]): void {
  if (program.length === 0 || program.length > MAX_INSTRUCTIONS) throw new Error(`program length ${program.length} outside 1..${MAX_INSTRUCTIONS}`);
  program.forEach((insn, pc) => {
    const inside = (offset: number) => {
      if (pc + 1 + offset >= program.length) throw new Error(`instruction ${pc}: jump past the end`);
    };
    switch (insn.code) {
      case OP.LD_ABS_W:
        if (insn.k % 4 !== 0 || insn.k + 4 > SECCOMP_DATA.size) throw new Error(`instruction ${pc}: load at bad offset ${insn.k}`);
        break;
      case OP.AND_K:
      case OP.RET_K:
        break;
      case OP.JA:
        inside(insn.k);
        break;
      case OP.JEQ_K:
      case OP.JGT_K:
      case OP.JGE_K:
      case OP.JSET_K:
        inside(insn.jt);
        inside(insn.jf);
        break;
      default:
        throw new Error(`instruction ${pc}: opcode 0x${insn.code.toString(16)} not supported`);
    }
  });
  const last = program[program.length - 1]!;
  if (last.code !== OP.RET_K && last.code !== OP.JA) throw new Error('program does not end in a return');
}

/** Runs the filter; returns its 32-bit return value (SECCOMP_RET_*). */
export function runProgram(program: readonly Instruction[], data: SeccompData | Buffer): number {
  validateProgram(program);
  const mem = Buffer.isBuffer(data) ? data : encodeSeccompData(data);
  let a = 0;
  for (let pc = 0, steps = 0; pc < program.length; pc++, steps++) {
    // Jumps only go forward, so a program cannot loop; this guards the interpreter itself.
    if (steps > program.length) throw new Error('internal: interpreter did not terminate');
    const insn = program[pc]!;
    switch (insn.code) {
      case OP.LD_ABS_W:
        a = mem.readUInt32LE(insn.k);
        break;
      case OP.AND_K:
        a = (a & insn.k) >>> 0;
        break;
      case OP.JA:
        pc += insn.k;
        break;
      case OP.JEQ_K:
        pc += a === insn.k >>> 0 ? insn.jt : insn.jf;
        break;
      case OP.JGT_K:
        pc += a > insn.k >>> 0 ? insn.jt : insn.jf;
        break;
      case OP.JGE_K:
        pc += a >= insn.k >>> 0 ? insn.jt : insn.jf;
        break;
      case OP.JSET_K:
        pc += (a & insn.k) !== 0 ? insn.jt : insn.jf;
        break;
      case OP.RET_K:
        return insn.k >>> 0;
    }
  }
  throw new Error('program fell off its end');
}
