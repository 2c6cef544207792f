/**
 * Run tasks with at most `limit` at a time (docker pulls 3 layers at once). The first
 * failure aborts the others through the shared controller, so a failed pull stops promptly
 * and every partial file stays resumable.
 */
export async function runBounded<T>(items: readonly T[], limit: number, task: (item: T, signal: AbortSignal) => Promise<void>, outer?: AbortSignal): Promise<void> {
  const controller = new AbortController();
  const onOuter = () => controller.abort(outer!.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length && !controller.signal.aborted) {
      const item = items[next++]!;
      try {
        await task(item, controller.signal);
      } catch (err) {
        if (firstError === undefined) firstError = err;
        controller.abort(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  } finally {
    outer?.removeEventListener('abort', onOuter);
  }
  if (firstError !== undefined) throw firstError;
  if (outer?.aborted) throw outer.reason;
}
