/**
 * Keeping an idle monitor small. A detached container's monitor does the whole setup
 * (rootfs, cgroup, init) and then waits, for as long as the container lives, in
 * epoll_wait. Once the container runs, it gives back what setup left behind:
 *
 *  1. garbage: one full GC (the monitor runs with --expose-gc), which also shrinks V8's
 *     heap now that the allocation burst is over;
 *  2. malloc's free memory, returned to the kernel (malloc_trim);
 *  3. the pages of the node binary and libraries that setup faulted in and never wrote
 *     (release-pages.ts): they are the page cache's, and come back from it on a touch.
 *
 * Whatever runs later faults some pages in again (about 3 MB more by the time V8's memory
 * reducer has run its GCs, ~10 s on); releasing a second time, later, was measured to win
 * nothing back, so this happens once. What the monitor keeps is mostly V8's heap: see
 * docs/lifecycle.md ("The monitor's memory").
 */
import type { Logger } from '../log.js';
import { mallocTrim } from '../sys/memory.js';
import { releaseCleanFilePages } from './release-pages.js';

/** Setup's garbage is collected this long after the container started, and memory released after it. */
const GC_AFTER_MS = 200;
const RELEASE_AFTER_MS = 400;

export function settleMonitorMemory(log: Logger): void {
  const at = (ms: number, fn: () => void) => setTimeout(fn, ms).unref();
  at(GC_AFTER_MS, () => (globalThis as { gc?: () => void }).gc?.());
  at(RELEASE_AFTER_MS, () => {
    try {
      mallocTrim();
      const kb = releaseCleanFilePages();
      log.debug({ releasedKb: kb }, 'released clean file-backed pages');
    } catch (err) {
      // Only a smaller footprint is lost; the container is unaffected.
      log.warn({ err: (err as Error).message }, "could not release the monitor's memory");
    }
  });
}
