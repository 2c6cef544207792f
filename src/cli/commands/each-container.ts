/**
 * Commands that take several containers (stop, kill, rm, wait) act on each in turn, as
 * docker does: a failure is reported and the others still go ahead; the exit status is
 * that of the last failure.
 */
import { reportError } from '../render-error.js';

export async function forEachContainer(refs: string[], act: (ref: string) => Promise<void>): Promise<void> {
  for (const ref of refs) {
    try {
      await act(ref);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  }
}
