import { describe, expect, it } from 'vitest';
import { decodeEbpf, EBPF_OP, EbpfAssembler, encodeEbpf, R0, R1 } from '../../src/security/ebpf.js';
import { runEbpf } from '../../src/security/ebpf-interpret.js';

const ctx = (...words: number[]) => {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return b;
};

describe('the eBPF assembler', () => {
  it('encodes struct bpf_insn: code, dst in the low nibble, src in the high one, s16 offset, s32 immediate', () => {
    const asm = new EbpfAssembler();
    asm.loadWord(2, R1, 4);
    asm.and32(3, -8);
    asm.ret(1);
    const bytes = encodeEbpf(asm.finish());
    expect(bytes.toString('hex')).toBe(
      [
        '61' + '12' + '0400' + '00000000', // r2 = *(u32 *)(r1 + 4)
        '54' + '03' + '0000' + 'f8ffffff', // w3 &= -8
        'b7' + '00' + '0000' + '01000000', // r0 = 1
        '95' + '00' + '0000' + '00000000', // exit
      ].join(''),
    );
    expect(decodeEbpf(bytes)).toEqual(asm.finish());
  });

  it('resolves forward jumps to the instruction after the label, counted from the next instruction', () => {
    const asm = new EbpfAssembler();
    const skip = asm.label();
    asm.mov64(2, 5);
    asm.jumpIfNot(2, 7, skip); // at 1
    asm.ret(1); // 2, 3
    asm.place(skip);
    asm.ret(0); // 4
    const program = asm.finish();
    expect(program[1]).toMatchObject({ code: EBPF_OP.JNE_IMM, dst: 2, imm: 7, off: 2 });
    expect(runEbpf(program, ctx())).toBe(0);
  });

  it('refuses jumps to labels never placed, backwards, or past the end, and bad registers', () => {
    const never = new EbpfAssembler();
    never.jump(never.label());
    never.ret(0);
    expect(() => never.finish()).toThrow(/never placed/);

    const back = new EbpfAssembler();
    const top = back.label();
    back.place(top);
    back.mov64(R0, 0);
    back.jump(top);
    back.ret(0);
    expect(() => back.finish()).toThrow(/backwards/);

    const past = new EbpfAssembler();
    const end = past.label();
    past.jump(end);
    past.ret(0);
    past.place(end);
    expect(() => past.finish()).toThrow(/past the end/);

    expect(() => new EbpfAssembler().mov64(11, 0)).toThrow(/register/);
    expect(() => new EbpfAssembler().rsh32(1, 32)).toThrow(/shift/);
  });
});

describe('the eBPF interpreter', () => {
  it('loads context words, masks and shifts in 32 bits, and returns r0', () => {
    const asm = new EbpfAssembler();
    asm.loadWord(2, R1, 0);
    asm.rsh32(2, 16);
    asm.loadWord(3, R1, 0);
    asm.and32(3, 0xffff);
    const no = asm.label();
    asm.jumpIfNot(2, 6, no);
    asm.jumpIfNot(3, 2, no);
    asm.ret(1);
    asm.place(no);
    asm.ret(0);
    const program = asm.finish();
    expect(runEbpf(program, ctx((6 << 16) | 2))).toBe(1);
    expect(runEbpf(program, ctx((4 << 16) | 2))).toBe(0);
    expect(runEbpf(program, ctx((6 << 16) | 1))).toBe(0);
  });

  it('refuses what the verifier refuses: unwritten registers, loads not through the context or out of it, falling off the end', () => {
    const unwritten = new EbpfAssembler();
    unwritten.mov32(2, 3);
    unwritten.ret(0);
    expect(() => runEbpf(unwritten.finish(), ctx(0))).toThrow(/r3 read before/);

    const notCtx = new EbpfAssembler();
    notCtx.mov64(2, 0);
    notCtx.loadWord(3, 2, 0);
    notCtx.ret(0);
    expect(() => runEbpf(notCtx.finish(), ctx(0))).toThrow(/not the context/);

    const outside = new EbpfAssembler();
    outside.loadWord(2, R1, 12);
    outside.ret(0);
    expect(() => runEbpf(outside.finish(), ctx(0, 0, 0))).toThrow(/bad context offset/);

    const noExit = new EbpfAssembler();
    noExit.mov64(R0, 1);
    expect(() => runEbpf(noExit.finish(), ctx())).toThrow(/falls off/);

    const pointer = [{ code: EBPF_OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 }];
    expect(() => runEbpf(pointer, ctx())).toThrow(/r0 read before/);
    expect(() => runEbpf([{ code: 0x07, dst: 0, src: 0, off: 0, imm: 1 }], ctx())).toThrow(/opcode 0x7/);
  });
});
