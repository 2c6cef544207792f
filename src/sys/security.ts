/**
 * The kernel calls behind capabilities, no_new_privs and seccomp. Thin: each function is
 * one call, checked; deciding what to call is src/security's job.
 */
import { readFileSync } from 'node:fs';
import { check, koffi, libc, rawSyscall, SYS } from './libc.js';
import { PR } from './process.js';
import { SysError } from './sys-error.js';
import { PR_CAP_AMBIENT_OP, PR_CAPBSET_READ, SECCOMP_SET_MODE } from './security-flags.js';
import { capsetArgs, prctlArgs, seccompArgs } from '../explain/format-call.js';

/** _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set, for capabilities 0-63. */
const CAPABILITY_VERSION_3 = 0x20080522;

// The structs are passed as raw bytes: header {u32 version; int pid}, data {u32 effective, permitted, inheritable}[2].
const capgetFn = libc.func('int capget(void *header, void *data)');
const capsetFn = libc.func('int capset(void *header, void *data)');
// Our own binding rather than process.ts's prctl, so that errors name the option.
const prctlFn = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const prctl = (option: number, a2 = 0, a3 = 0) => prctlFn(option, a2, a3, 0, 0) as number;

/** struct sock_fprog { unsigned short len; struct sock_filter *filter; } (koffi adds the padding). */
const SockFprog = koffi.struct('tsbox_sock_fprog', { len: 'uint16_t', filter: 'void *' });

export { SECCOMP_FILTER_FLAG } from './security-flags.js';

/** Capability sets as 64-bit masks, bit n = capability n. */
export interface CapabilityMasks {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

function capHeader(): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(CAPABILITY_VERSION_3, 0);
  header.writeInt32LE(0, 4); // 0: this thread
  return header;
}

export function capget(): CapabilityMasks {
  const data = Buffer.alloc(24);
  check(capgetFn(capHeader(), data), 'capget');
  const mask = (off: number) => BigInt(data.readUInt32LE(off)) | (BigInt(data.readUInt32LE(off + 12)) << 32n);
  return { effective: mask(0), permitted: mask(4), inheritable: mask(8) };
}

export function capset(masks: CapabilityMasks): void {
  const data = Buffer.alloc(24);
  const put = (off: number, m: bigint) => {
    data.writeUInt32LE(Number(m & 0xffffffffn), off);
    data.writeUInt32LE(Number((m >> 32n) & 0xffffffffn), off + 12);
  };
  put(0, masks.effective);
  put(4, masks.permitted);
  put(8, masks.inheritable);
  check(capsetFn(capHeader(), data), 'capset', () => `{_LINUX_CAPABILITY_VERSION_3, 0}, ${capsetArgs(masks)}`);
}

/** Remove a capability from this thread's bounding set, for good. */
export function capbsetDrop(cap: number): void {
  check(prctl(PR.CAPBSET_DROP, cap), 'prctl', () => prctlArgs(PR.CAPBSET_DROP, cap));
}

/** Keep the permitted set across a setuid away from root (cleared again by execve). */
export function setKeepCaps(keep: boolean): void {
  check(prctl(PR.SET_KEEPCAPS, keep ? 1 : 0), 'prctl', () => prctlArgs(PR.SET_KEEPCAPS, keep ? 1 : 0));
}

export function ambientClearAll(): void {
  check(prctl(PR.CAP_AMBIENT, PR_CAP_AMBIENT_OP.CLEAR_ALL), 'prctl', () => prctlArgs(PR.CAP_AMBIENT, PR_CAP_AMBIENT_OP.CLEAR_ALL));
}

export function ambientRaise(cap: number): void {
  check(prctl(PR.CAP_AMBIENT, PR_CAP_AMBIENT_OP.RAISE, cap), 'prctl', () => prctlArgs(PR.CAP_AMBIENT, PR_CAP_AMBIENT_OP.RAISE, cap));
}

export function setNoNewPrivs(): void {
  check(prctl(PR.SET_NO_NEW_PRIVS, 1), 'prctl', () => prctlArgs(PR.SET_NO_NEW_PRIVS, 1));
}

/**
 * The highest capability number the running kernel knows: /proc/sys/kernel/cap_last_cap,
 * or, where no /proc is mounted (the init runs after pivot_root), the last number
 * PR_CAPBSET_READ accepts (it answers EINVAL past the end).
 */
export function capLastCap(): number {
  try {
    const n = Number.parseInt(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim(), 10);
    if (Number.isInteger(n) && n >= 0 && n < 64) return n;
  } catch {
    // Fall through to asking prctl.
  }
  let cap = 0;
  while (cap < 64 && prctl(PR_CAPBSET_READ, cap) >= 0) cap++;
  if (cap === 0) throw new SysError('prctl', koffi.errno(), 'PR_CAPBSET_READ, 0');
  return cap - 1;
}

/**
 * seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog). glibc has no wrapper, hence the raw
 * syscall. With TSYNC the kernel returns the id of a thread it could not synchronise.
 */
export function seccompSetFilter(program: Buffer, flags: number): void {
  if (program.length === 0 || program.length % 8 !== 0) throw new Error(`seccomp program of ${program.length} bytes`);
  const prog = { len: program.length / 8, filter: program };
  const detail = (): string => seccompArgs(flags, prog.len);
  const ret = Number(check(rawSyscall(SYS.seccomp, 'unsigned int', SECCOMP_SET_MODE.FILTER, 'unsigned int', flags, koffi.pointer(SockFprog), prog) as number, 'seccomp', detail));
  if (ret > 0) throw new SysError('seccomp', 0, `${detail()}: thread ${ret} could not be synchronised`);
}
