/**
 * --debug in the init and the exec-init: every checked call goes to the parent as a
 * {t:"trace"} message with the step it belongs to, formatted with symbolic flags
 * (explain/format-call.ts). The parent logs it (and --explain renders it).
 */
import { formatCall } from '../explain/format-call.js';
import { setSyscallTracer, type TracedCall } from '../sys/libc.js';
import type { InitChannel } from './channel.js';

/**
 * Start tracing to the parent; `earlier` are the calls recorded before the plan said
 * whether to trace (recordSyscalls), sent first under the step they were made in.
 */
export function traceToParent(channel: InitChannel, step: () => string, earlier: readonly TracedCall[], earlierStep: string): void {
  for (const c of earlier) channel.send({ t: 'trace', step: earlierStep, detail: formatCall(c.syscall, c.detail, c.result) });
  setSyscallTracer((syscall, detail, result) => channel.send({ t: 'trace', step: step(), detail: formatCall(syscall, detail, result) }));
}
