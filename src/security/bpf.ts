/**
 * Classic BPF as seccomp uses it: the few opcodes a filter needs, and struct sock_filter
 * ({u16 code; u8 jt; u8 jf; u32 k}, 8 bytes, native = little-endian byte order).
 */

export interface Instruction {
  code: number;
  /** Conditional jumps: how many instructions to skip when true / false (0-255). */
  jt: number;
  jf: number;
  k: number;
}

/** Opcodes, already combined from class | size | mode | source. */
export const OP = {
  /** A = 32-bit word of seccomp_data at offset k. */
  LD_ABS_W: 0x20,
  /** A &= k */
  AND_K: 0x54,
  /** pc += k (32-bit: the only way to jump further than 255). */
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  /** return k */
  RET_K: 0x06,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const MAX_INSTRUCTIONS = 4096;
export const MAX_SHORT_JUMP = 255;

const SIZE = 8;

export function encodeProgram(program: readonly Instruction[]): Buffer {
  const buf = Buffer.alloc(program.length * SIZE);
  program.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, i * SIZE);
    buf.writeUInt8(insn.jt, i * SIZE + 2);
    buf.writeUInt8(insn.jf, i * SIZE + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * SIZE + 4);
  });
  return buf;
}

export function decodeProgram(buf: Buffer): Instruction[] {
  if (buf.length % SIZE !== 0) throw new Error(`BPF program of ${buf.length} bytes is not a whole number of instructions`);
  const program: Instruction[] = [];
  for (let off = 0; off < buf.length; off += SIZE) {
    program.push({ code: buf.readUInt16LE(off), jt: buf.readUInt8(off + 2), jf: buf.readUInt8(off + 3), k: buf.readUInt32LE(off + 4) });
  }
  return program;
}

/** seccomp_data field offsets: int nr; u32 arch; u64 instruction_pointer; u64 args[6]. */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instructionPointer: 8,
  /** Low 32 bits of args[i] (little-endian). */
  argLow: (i: number) => 16 + 8 * i,
  argHigh: (i: number) => 16 + 8 * i + 4,
  size: 64,
} as const;
