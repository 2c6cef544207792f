import { TsboxError } from '../errors.js';
import { errnoMeaning, errnoName } from './errno.js';

/**
 * A failed system call: which call, with what (path, flags), and the errno it returned.
 * Rendered as "mount(overlay on /x, MS_NODEV): EPERM (operation not permitted)".
 */
export class SysError extends TsboxError {
  readonly syscall: string;
  readonly errno: number;
  /** Symbolic errno: "ENOENT". Same field name as Node's own errors. */
  readonly code: string;
  readonly detail: string;

  constructor(syscall: string, errno: number, detail = '') {
    const code = errnoName(errno);
    super(`${syscall}(${detail}): ${code} (${errnoMeaning(errno)})`);
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.detail = detail;
  }
}

/**
 * bpf(BPF_PROG_LOAD) refused by the verifier: the program is wrong (a bug of tsbox's),
 * unlike the same errno from a kernel that lacks the program type or forbids bpf().
 */
export class VerifierRefusal extends SysError {}
