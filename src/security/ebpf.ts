/**
 * A small eBPF assembler: the few instructions a cgroup device program needs (see
 * cgroups/device-program.ts), labels for forward jumps, and struct bpf_insn encoding.
 * Pure. Classic BPF (seccomp) is bpf.ts; eBPF has ten 64-bit registers, 16-bit signed
 * jump offsets and one instruction format:
 *   u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm   (8 bytes, little-endian here)
 */

export interface EbpfInstruction {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Opcodes, already combined from class | operation | source (include/uapi/linux/bpf.h). */
export const EBPF_OP = {
  /** dst = *(u32 *)(src + off) */
  LDX_MEM_W: 0x61,
  /** dst = (u32)dst & imm, upper half cleared (BPF_ALU | BPF_AND | BPF_K) */
  AND32_IMM: 0x54,
  /** dst = (u32)dst >> imm */
  RSH32_IMM: 0x74,
  /** dst = (u32)src */
  MOV32_REG: 0xbc,
  /** dst = imm, sign-extended to 64 bits */
  MOV64_IMM: 0xb7,
  /** if dst != imm goto pc + 1 + off (BPF_JMP | BPF_JNE | BPF_K) */
  JNE_IMM: 0x55,
  /** goto pc + 1 + off */
  JA: 0x05,
  /** return r0 */
  EXIT: 0x95,
} as const;

export const EBPF_INSN_SIZE = 8;
/** r0 holds the result; r1 holds the context pointer on entry; r10 is the read-only frame pointer. */
export const R0 = 0;
export const R1 = 1;
export const MAX_REGISTER = 10;

/** A position in the program, known once `place` was called for it. */
export type EbpfLabel = { readonly id: number };

/**
 * Emit instructions in order; a jump may name a label that is placed later. `finish`
 * resolves every jump to its 16-bit offset and refuses jumps backwards (a device program
 * has no loops, and the verifier refuses back edges) or to labels never placed.
 */
export class EbpfAssembler {
  private readonly code: EbpfInstruction[] = [];
  private readonly fixups: { at: number; label: EbpfLabel }[] = [];
  private readonly placed = new Map<number, number>();
  private labels = 0;

  get length(): number {
    return this.code.length;
  }

  label(): EbpfLabel {
    return { id: this.labels++ };
  }

  /** The next instruction emitted is where `label` points. */
  place(label: EbpfLabel): void {
    if (this.placed.has(label.id)) throw new Error(`label ${label.id} placed twice`);
    this.placed.set(label.id, this.code.length);
  }

  loadWord(dst: number, src: number, off: number): void {
    this.emit({ code: EBPF_OP.LDX_MEM_W, dst, src, off, imm: 0 });
  }

  and32(dst: number, imm: number): void {
    this.emit({ code: EBPF_OP.AND32_IMM, dst, src: 0, off: 0, imm: imm | 0 });
  }

  rsh32(dst: number, imm: number): void {
    if (!Number.isInteger(imm) || imm < 0 || imm > 31) throw new Error(`shift by ${imm}`);
    this.emit({ code: EBPF_OP.RSH32_IMM, dst, src: 0, off: 0, imm });
  }

  mov32(dst: number, src: number): void {
    this.emit({ code: EBPF_OP.MOV32_REG, dst, src, off: 0, imm: 0 });
  }

  mov64(dst: number, imm: number): void {
    this.emit({ code: EBPF_OP.MOV64_IMM, dst, src: 0, off: 0, imm: imm | 0 });
  }

  /** if dst != imm goto label. The comparison is on all 64 bits of dst against imm sign-extended. */
  jumpIfNot(dst: number, imm: number, label: EbpfLabel): void {
    this.fixups.push({ at: this.code.length, label });
    this.emit({ code: EBPF_OP.JNE_IMM, dst, src: 0, off: 0, imm: imm | 0 });
  }

  jump(label: EbpfLabel): void {
    this.fixups.push({ at: this.code.length, label });
    this.emit({ code: EBPF_OP.JA, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** r0 = value; return r0. */
  ret(value: number): void {
    this.mov64(R0, value);
    this.emit({ code: EBPF_OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  }

  finish(): EbpfInstruction[] {
    const out = this.code.map((insn) => ({ ...insn }));
    for (const { at, label } of this.fixups) {
      const target = this.placed.get(label.id);
      if (target === undefined) throw new Error(`jump at ${at} to a label never placed`);
      if (target <= at) throw new Error(`jump at ${at} goes backwards, to ${target}`);
      if (target >= out.length) throw new Error(`jump at ${at} goes past the end`);
      const off = target - at - 1;
      if (off > 0x7fff) throw new Error(`jump at ${at} is too far (${off})`);
      out[at]!.off = off;
    }
    return out;
  }

  private emit(insn: EbpfInstruction): void {
    checkRegister(insn.dst);
    checkRegister(insn.src);
    if (!Number.isInteger(insn.off) || insn.off < -0x8000 || insn.off > 0x7fff) throw new Error(`offset ${insn.off}`);
    this.code.push(insn);
  }
}

function checkRegister(r: number): void {
  if (!Number.isInteger(r) || r < 0 || r > MAX_REGISTER) throw new Error(`register r${r}`);
}

/**
 * struct bpf_insn[], as bpf(BPF_PROG_LOAD) takes it. Plain byte stores, little-endian: every
 * run encodes its program once, and on that first (cold) call they cost half of what
 * Buffer's write methods do.
 */
export function encodeEbpf(program: readonly EbpfInstruction[]): Buffer {
  const buf = Buffer.alloc(program.length * EBPF_INSN_SIZE);
  for (let i = 0; i < program.length; i++) {
    const { code, dst, src, off, imm } = program[i]!;
    const at = i * EBPF_INSN_SIZE;
    buf[at] = code;
    buf[at + 1] = ((src & 0xf) << 4) | (dst & 0xf);
    buf[at + 2] = off & 0xff;
    buf[at + 3] = (off >> 8) & 0xff;
    buf[at + 4] = imm & 0xff;
    buf[at + 5] = (imm >> 8) & 0xff;
    buf[at + 6] = (imm >> 16) & 0xff;
    buf[at + 7] = (imm >>> 24) & 0xff;
  }
  return buf;
}

/** The inverse of encodeEbpf (tests, --debug). */
export function decodeEbpf(buf: Buffer): EbpfInstruction[] {
  if (buf.length % EBPF_INSN_SIZE !== 0) throw new Error(`eBPF program of ${buf.length} bytes`);
  const out: EbpfInstruction[] = [];
  for (let at = 0; at < buf.length; at += EBPF_INSN_SIZE) {
    const regs = buf.readUInt8(at + 1);
    out.push({ code: buf.readUInt8(at), dst: regs & 0xf, src: regs >> 4, off: buf.readInt16LE(at + 2), imm: buf.readInt32LE(at + 4) });
  }
  return out;
}
