/**
 * --debug / --explain: the calls that made the init's namespaces, logged under the step
 * "spawn init" once there is a logger (the early init makes them before the command line
 * is read), then one line with the init's pid. Called only when debug is enabled.
 */
import { formatCall } from '../explain/format-call.js';
import type { Logger } from '../log.js';
import type { TracedCall } from '../sys/libc.js';

export function logInitSpawn(log: Logger, pid: number, calls: readonly TracedCall[], fields: object, msg: string, step = 'spawn init'): void {
  for (const c of calls) log.debug({ step }, formatCall(c.syscall, c.detail, c.result));
  log.debug({ step, pid, ...fields }, msg);
}
