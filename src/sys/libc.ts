/**
 * The one place that loads koffi and libc. Every other file in src/sys declares the
 * functions it needs from `libc` and turns failures into SysError with `check`.
 * Nothing outside src/sys imports koffi.
 */
import koffi from 'koffi';
import { SysError } from './sys-error.js';
import { detailText, type Detail } from '../explain/format-call.js';

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
 * `detail` (the arguments, as text) may be a function: it is called only when the call
 * is traced or failed, so symbolic flags cost nothing on the normal path.
 */
export function check<T extends number | bigint>(ret: T, syscall: string, detail: Detail = ''): T {
  const failed = ret === -1 || ret === -1n;
  const errno = failed ? koffi.errno() : 0;
  tracer?.(syscall, detail, failed ? -errno : Number(ret));
  if (failed) throw new SysError(syscall, errno, detailText(detail));
  return ret;
}

/**
 * --debug: called after every checked call with its name, arguments and result
 * (a negative errno on failure). One hook for the whole boundary, so nothing is missed.
 * explain/format-call.ts formatCall turns the three into the line that is shown.
 */
export type SyscallTracer = (syscall: string, detail: Detail, result: number) => void;
let tracer: SyscallTracer | null = null;
export function setSyscallTracer(fn: SyscallTracer | null): void {
  tracer = fn;
}

/** A checked call as the tracer got it (arguments not yet formatted). */
export interface TracedCall {
  syscall: string;
  detail: Detail;
  result: number;
}

/**
 * Keep the checked calls made from now on, unformatted, until the returned function is
 * called (it restores the previous tracer and gives them back). For calls made before
 * anyone knows whether they are traced: the init's first prctls, the namespaces made at
 * start-up before the command line is read. Costs one array push per call.
 */
export function recordSyscalls(): () => TracedCall[] {
  const calls: TracedCall[] = [];
  const previous = tracer;
  tracer = (syscall, detail, result) => {
    calls.push({ syscall, detail, result });
    previous?.(syscall, detail, result);
  };
  return () => {
    tracer = previous;
    return calls;
  };
}

/**
 * For calls made thousands of times (extraction): `if (ret === -1 || tracing()) check(...)`
 * builds the detail string only when it is shown.
 */
export function tracing(): boolean {
  return tracer !== null;
}
