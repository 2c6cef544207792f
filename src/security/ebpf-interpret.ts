/**
 * An interpreter for the eBPF subset the assembler (ebpf.ts) emits, over a context buffer.
 * The tests ask it "what does this device program answer for c 1:11 write" without a
 * kernel; it refuses what the kernel's verifier refuses for this subset: unknown opcodes,
 * reads of registers never written, loads outside the context or not through the context
 * pointer, jumps out of the program, falling off the end, returning a pointer. Pure.
 */
import { EBPF_OP, MAX_REGISTER, R0, R1, type EbpfInstruction } from './ebpf.js';

type Value = { kind: 'scalar'; value: bigint } | { kind: 'ctx' };

const U32 = 0xffffffffn;
const u64 = (imm: number) => BigInt.asUintN(64, BigInt(imm));

export function runEbpf(program: readonly EbpfInstruction[], ctx: Buffer): number {
  const regs: (Value | undefined)[] = new Array(MAX_REGISTER + 1).fill(undefined);
  regs[R1] = { kind: 'ctx' };
  const scalar = (pc: number, r: number): bigint => {
    const v = regs[r];
    if (v === undefined) throw new Error(`instruction ${pc}: r${r} read before it was written`);
    if (v.kind !== 'scalar') throw new Error(`instruction ${pc}: r${r} is a pointer, not a number`);
    return v.value;
  };
  const set = (r: number, value: bigint) => {
    if (r === MAX_REGISTER) throw new Error('r10 is read-only');
    regs[r] = { kind: 'scalar', value };
  };
  const jumpTo = (pc: number, off: number): number => {
    const target = pc + 1 + off;
    if (target < 0 || target >= program.length) throw new Error(`instruction ${pc}: jump out of the program (to ${target})`);
    if (off < 0) throw new Error(`instruction ${pc}: backward jump`);
    return target;
  };

  let pc = 0;
  for (let steps = 0; steps <= program.length; steps++) {
    if (pc >= program.length) throw new Error('the program falls off its end');
    const insn = program[pc]!;
    switch (insn.code) {
      case EBPF_OP.LDX_MEM_W: {
        if (regs[insn.src]?.kind !== 'ctx') throw new Error(`instruction ${pc}: load through r${insn.src}, which is not the context`);
        if (insn.off < 0 || insn.off % 4 !== 0 || insn.off + 4 > ctx.length) throw new Error(`instruction ${pc}: load at bad context offset ${insn.off}`);
        set(insn.dst, BigInt(ctx.readUInt32LE(insn.off)));
        pc++;
        break;
      }
      case EBPF_OP.AND32_IMM:
        set(insn.dst, scalar(pc, insn.dst) & u64(insn.imm) & U32);
        pc++;
        break;
      case EBPF_OP.RSH32_IMM:
        set(insn.dst, (scalar(pc, insn.dst) & U32) >> BigInt(insn.imm & 31));
        pc++;
        break;
      case EBPF_OP.MOV32_REG:
        set(insn.dst, scalar(pc, insn.src) & U32);
        pc++;
        break;
      case EBPF_OP.MOV64_IMM:
        set(insn.dst, u64(insn.imm));
        pc++;
        break;
      case EBPF_OP.JNE_IMM:
        pc = scalar(pc, insn.dst) !== u64(insn.imm) ? jumpTo(pc, insn.off) : pc + 1;
        break;
      case EBPF_OP.JA:
        pc = jumpTo(pc, insn.off);
        break;
      case EBPF_OP.EXIT:
        return Number(scalar(pc, R0) & U32);
      default:
        throw new Error(`instruction ${pc}: opcode 0x${insn.code.toString(16)} not supported`);
    }
  }
  throw new Error('the program did not finish');
}
