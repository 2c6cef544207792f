/**
 * prctl(PR_CAP_AMBIENT) and seccomp(2) constants in a module of their own that loads no
 * FFI, as mount-flags.ts: the --debug formatter (explain/format-call.ts) and unit tests
 * import them without loading koffi. sys/security.ts re-exports them.
 */

/** prctl(PR_CAP_AMBIENT, op, cap): the op. */
export const PR_CAP_AMBIENT_OP = { IS_SET: 1, RAISE: 2, LOWER: 3, CLEAR_ALL: 4 } as const;

/** prctl(PR_CAPBSET_READ, cap): not in PR (process-flags.ts), only security.ts asks it. */
export const PR_CAPBSET_READ = 23;

/** seccomp(2) operations. */
export const SECCOMP_SET_MODE = { STRICT: 0, FILTER: 1 } as const;

/** seccomp(SECCOMP_SET_MODE_FILTER) flags. */
export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
} as const;
