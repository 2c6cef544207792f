import { describe, expect, it } from 'vitest';
import { BackwardProgram } from '../../src/security/bpf-builder.js';
import { decodeProgram, encodeProgram, OP, type Instruction } from '../../src/security/bpf.js';
import { encodeSeccompData, runProgram, validateProgram } from '../../src/security/bpf-interpret.js';

const insn = (code: number, k = 0, jt = 0, jf = 0): Instruction => ({ code, jt, jf, k });

describe('struct sock_filter encoding', () => {
  it('is u16 code, u8 jt, u8 jf, u32 k, little-endian', () => {
    const bytes = encodeProgram([insn(OP.JEQ_K, 0xc000003e, 1, 2), insn(OP.RET_K, 0x80000000)]);
    expect(bytes.toString('hex')).toBe('150001023e0000c0' + '0600000000000080');
    expect(decodeProgram(bytes)).toEqual([insn(OP.JEQ_K, 0xc000003e, 1, 2), insn(OP.RET_K, 0x80000000)]);
    expect(() => decodeProgram(Buffer.alloc(12))).toThrow(/whole number/);
  });

  it('lays out seccomp_data as the kernel does', () => {
    const data = encodeSeccompData({ nr: 59, arch: 0xc000003e, instructionPointer: 0x1122n, args: [0x0102030405060708n, 7] });
    expect(data.length).toBe(64);
    expect(data.readInt32LE(0)).toBe(59);
    expect(data.readUInt32LE(4)).toBe(0xc000003e);
    expect(data.readBigUInt64LE(8)).toBe(0x1122n);
    expect(data.readUInt32LE(16)).toBe(0x05060708); // low half first
    expect(data.readUInt32LE(20)).toBe(0x01020304);
    expect(data.readBigUInt64LE(24)).toBe(7n);
  });
});

describe('the interpreter refuses what the kernel refuses', () => {
  const cases: [string, Instruction[], RegExp][] = [
    ['empty', [], /length 0/],
    ['jump past the end', [insn(OP.JEQ_K, 1, 5, 0), insn(OP.RET_K)], /jump past the end/],
    ['long jump past the end', [insn(OP.JA, 1), insn(OP.RET_K)], /jump past the end/],
    ['unaligned load', [insn(OP.LD_ABS_W, 2), insn(OP.RET_K)], /bad offset 2/],
    ['load beyond seccomp_data', [insn(OP.LD_ABS_W, 64), insn(OP.RET_K)], /bad offset 64/],
    ['unknown opcode', [insn(0x07), insn(OP.RET_K)], /opcode 0x7/],
    ['no return at the end', [insn(OP.RET_K), insn(OP.LD_ABS_W, 0)], /does not end in a return/],
    ['too long', Array.from({ length: 4097 }, () => insn(OP.RET_K)), /length 4097/],
  ];
  for (const [what, program, message] of cases) it(what, () => expect(() => validateProgram(program)).toThrow(message));

  it('runs JSET and AND', () => {
    const program = [insn(OP.LD_ABS_W, 16), insn(OP.AND_K, 0xf0), insn(OP.JSET_K, 0x10, 0, 1), insn(OP.RET_K, 1), insn(OP.RET_K, 2)];
    expect(runProgram(program, { nr: 0, arch: 0, args: [0x1f] })).toBe(1);
    expect(runProgram(program, { nr: 0, arch: 0, args: [0x2f] })).toBe(2);
  });
});

describe('BackwardProgram', () => {
  it('reaches a far instruction with a long jump', () => {
    const p = new BackwardProgram();
    const far = p.stmt(OP.RET_K, 7); // not a ret() target: must be reached by JA
    for (let i = 0; i < 300; i++) p.ret(1000 + i);
    p.jump(OP.JEQ_K, 5, far, p.next);
    p.stmt(OP.LD_ABS_W, 0);
    const program = p.finish();
    validateProgram(program);
    expect(program.filter((i) => i.code === OP.JA)).toHaveLength(1);
    expect(runProgram(program, { nr: 5, arch: 0 })).toBe(7);
    // Not equal: falls through to the first of the 300 returns (emitted last).
    expect(runProgram(program, { nr: 6, arch: 0 })).toBe(1299);
  });

  it('copies a far return instead of jumping to it, and reuses a near copy', () => {
    const p = new BackwardProgram();
    p.ret(42);
    for (let i = 0; i < 300; i++) p.ret(1000 + i);
    p.jump(OP.JEQ_K, 1, { ret: 42 }, p.next);
    p.jump(OP.JEQ_K, 2, { ret: 42 }, p.next);
    p.stmt(OP.LD_ABS_W, 0);
    const program = p.finish();
    validateProgram(program);
    expect(program.filter((i) => i.code === OP.JA)).toHaveLength(0);
    expect(program.filter((i) => i.code === OP.RET_K && i.k === 42)).toHaveLength(2);
    expect(runProgram(program, { nr: 1, arch: 0 })).toBe(42);
    expect(runProgram(program, { nr: 2, arch: 0 })).toBe(42);
    expect(runProgram(program, { nr: 3, arch: 0 })).toBe(1299);
  });

  it('handles both branches being far at once', () => {
    const p = new BackwardProgram();
    const a = p.stmt(OP.RET_K, 1);
    const b = p.stmt(OP.RET_K, 2);
    for (let i = 0; i < 400; i++) p.ret(1000 + i);
    p.jump(OP.JEQ_K, 9, a, b);
    p.stmt(OP.LD_ABS_W, 0);
    const program = p.finish();
    validateProgram(program);
    expect(program.filter((i) => i.code === OP.JA)).toHaveLength(2);
    expect(runProgram(program, { nr: 9, arch: 0 })).toBe(1);
    expect(runProgram(program, { nr: 8, arch: 0 })).toBe(2);
  });
});
