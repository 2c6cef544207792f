/**
 * --debug / --explain in the parent: the checked calls a synchronous step makes (the
 * device policy's bpf loads and attach) are recorded while it runs and logged under the
 * step, as the init's are. Only when asked: otherwise the step runs as it is.
 */
import { formatCall } from '../explain/format-call.js';
import type { Logger } from '../log.js';
import { recordSyscalls } from '../sys/libc.js';

export function tracedStep<T>(log: Logger, enabled: boolean, step: string, fn: () => T): T {
  if (!enabled) return fn();
  const stop = recordSyscalls();
  try {
    return fn();
  } finally {
    for (const c of stop()) log.debug({ step }, formatCall(c.syscall, c.detail, c.result));
  }
}
