/**
 * What run() and exec() return: a promise of the result that also carries the process's
 * pipes, there before it resolves (as execa's and child_process's are):
 *
 *   const c = run({ ..., stdout: 'pipe' });
 *   c.stdout.on('data', ...);
 *   const result = await c;        // or: await c.result
 *
 * and the stop switch behind `timeout` and `signal`.
 */
import type { Readable } from 'node:stream';
import type { StoppedBy } from './outcome.js';

export interface ProcessHandle<R> extends Promise<R> {
  /** The container's id (64 hex digits); exec's handle has the container's. */
  readonly id: string;
  /** With stdout: 'pipe', the output as it comes; null otherwise. */
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** The same promise, for code that prefers not to await the handle itself. */
  readonly result: Promise<R>;
}

export function makeHandle<R>(result: Promise<R>, fields: { id: string; stdout: Readable | null; stderr: Readable | null }): ProcessHandle<R> {
  return Object.assign(result, { ...fields, result }) as ProcessHandle<R>;
}

export interface StopSwitch {
  /** Aborted when the timeout expires or the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** Which of the two fired first. */
  stoppedBy(): StoppedBy;
  dispose(): void;
}

export function stopSwitch(timeoutMs: number | undefined, caller: AbortSignal | undefined): StopSwitch {
  const controller = new AbortController();
  let by: StoppedBy = null;
  const stop = (why: Exclude<StoppedBy, null>) => {
    if (by !== null) return;
    by = why;
    controller.abort();
  };
  const onAbort = () => stop('aborted');
  if (caller?.aborted) onAbort();
  else caller?.addEventListener('abort', onAbort, { once: true });
  const timer = timeoutMs === undefined ? null : setTimeout(() => stop('timeout'), timeoutMs);
  return {
    signal: controller.signal,
    stoppedBy: () => by,
    dispose() {
      if (timer) clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}
