/**
 * setrlimit(2) resource numbers (asm-generic/resource.h, the same on x86_64 and arm64), in a
 * module of their own that loads no FFI, as process-flags.ts: the spec's --ulimit parser and
 * unit tests import them without loading koffi. sys/process.ts re-exports them.
 */
export const RLIMIT = {
  CPU: 0,
  FSIZE: 1,
  DATA: 2,
  STACK: 3,
  CORE: 4,
  RSS: 5,
  NPROC: 6,
  NOFILE: 7,
  MEMLOCK: 8,
  AS: 9,
  LOCKS: 10,
  SIGPENDING: 11,
  MSGQUEUE: 12,
  NICE: 13,
  RTPRIO: 14,
  RTTIME: 15,
} as const;

/** RLIM_INFINITY: (rlim_t)-1, the kernel's "no limit". */
export const RLIM_INFINITY = 0xffffffffffffffffn;
