/**
 * The one place that loads koffi and libc. Every other file in src/sys declares the
 * functions it needs from `libc` and turns failures into SysError with `check`.
 * Nothing outside src/sys imports koffi.
 */
import koffi from 'koffi';
import { SysError } from './sys-error.js';

export { koffi };
export const libc = koffi.load('libc.so.6');

/** Raw syscall(2) for calls glibc does not wrap (pivot_root, openat2). Variadic: pass type, value pairs. */
export const rawSyscall = libc.func('long syscall(long number, ...)');

/** x86_64 syscall numbers used through rawSyscall. */
export const SYS = {
  pivot_root: 155,
  getdents64: 217,
  seccomp: 317,
  bpf: 321,
  close_range: 436,
  openat2: 437,
  open_tree: 428,
  move_mount: 429,
  mount_setattr: 442,
} as const;

/**
 * Read errno right after a call that returned -1 and throw a SysError.
 * Must be called synchronously after the call, before any other FFI call.
 */
export function check<T extends number | bigint>(ret: T, syscall: string, detail = ''): T {
  const failed = ret === -1 || ret === -1n;
  const errno = failed ? koffi.errno() : 0;
  tracer?.(syscall, detail, failed ? -errno : Number(ret));
  if (failed) throw new SysError(syscall, errno, detail);
  return ret;
}

/**
 * --debug: called after every checked call with its name, arguments and result
 * (a negative errno on failure). One hook for the whole boundary, so nothing is missed.
 */
export type SyscallTracer = (syscall: string, detail: string, result: number) => void;
let tracer: SyscallTracer | null = null;
export function setSyscallTracer(fn: SyscallTracer | null): void {
  tracer = fn;
}

/**
 * For calls made thousands of times (extraction): `if (ret === -1 || tracing()) check(...)`
 * builds the detail string only when it is shown.
 */
export function tracing(): boolean {
  return tracer !== null;
}
