/**
 * Device rules -> the eBPF program the kernel runs on each device access of the container's
 * group (BPF_PROG_TYPE_CGROUP_DEVICE). Pure. The program answers 1 (allow) when one rule
 * covers the request, else 0 (EPERM to the caller): deny by default.
 *
 *   r2 = type       (ctx.access_type & 0xffff: 1 block, 2 char)
 *   r3 = access     (ctx.access_type >> 16: mknod 1, read 2, write 4, or-ed)
 *   r4 = major, r5 = minor
 *   per rule, a block that falls through to the next rule on the first mismatch:
 *     if r2 != TYPE goto next                          (not for type a)
 *     r1 = r3; r1 &= ~ACCESS; if r1 != 0 goto next     (a request for more than the rule grants)
 *     if r4 != MAJOR goto next; if r5 != MINOR goto next   (not for *)
 *     return 1
 *   return 0
 *
 * A request must be covered by one rule on its own (open O_RDWR of a node allowed "r" by
 * one rule and "w" by another is refused), as cgroup v1 and runc do.
 */
import { DEVCG_ACC, DEVCG_DEV, DEVICE_CTX } from '../sys/bpf-constants.js';
import { EbpfAssembler, R1, type EbpfInstruction } from '../security/ebpf.js';
import type { DeviceRule } from './rules.js';

const TYPE = 2;
const ACCESS = 3;
const MAJOR = 4;
const MINOR = 5;

const ACCESS_BITS: Record<string, number> = { m: DEVCG_ACC.MKNOD, r: DEVCG_ACC.READ, w: DEVCG_ACC.WRITE };
const ALL_ACCESS = DEVCG_ACC.MKNOD | DEVCG_ACC.READ | DEVCG_ACC.WRITE;

export function accessBits(access: string): number {
  let bits = 0;
  for (const c of access) {
    const bit = ACCESS_BITS[c];
    if (bit === undefined) throw new Error(`access '${access}' is not made of r, w and m`);
    bits |= bit;
  }
  return bits;
}

export function compileDeviceProgram(rules: readonly DeviceRule[]): EbpfInstruction[] {
  const asm = new EbpfAssembler();
  asm.loadWord(TYPE, R1, DEVICE_CTX.accessType);
  asm.and32(TYPE, 0xffff);
  asm.loadWord(ACCESS, R1, DEVICE_CTX.accessType);
  asm.rsh32(ACCESS, 16);
  asm.loadWord(MAJOR, R1, DEVICE_CTX.major);
  asm.loadWord(MINOR, R1, DEVICE_CTX.minor);

  for (const rule of rules) {
    const bits = accessBits(rule.access);
    if (bits === 0) continue; // grants nothing
    const next = asm.label();
    let conditions = 0;
    if (rule.type !== 'a') {
      asm.jumpIfNot(TYPE, rule.type === 'b' ? DEVCG_DEV.BLOCK : DEVCG_DEV.CHAR, next);
      conditions++;
    }
    if (bits !== ALL_ACCESS) {
      asm.mov32(R1, ACCESS);
      asm.and32(R1, ~bits & ALL_ACCESS);
      asm.jumpIfNot(R1, 0, next);
      conditions++;
    }
    if (rule.major !== '*') {
      asm.jumpIfNot(MAJOR, rule.major, next);
      conditions++;
    }
    if (rule.minor !== '*') {
      asm.jumpIfNot(MINOR, rule.minor, next);
      conditions++;
    }
    asm.ret(1);
    // A rule that matches everything ('a *:* rwm') ends the program: the verifier refuses
    // instructions that can never run.
    if (conditions === 0) return asm.finish();
    asm.place(next);
  }
  asm.ret(0);
  return asm.finish();
}
