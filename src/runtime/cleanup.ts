/**
 * Structured teardown: every resource a run acquires registers its release here at
 * the moment it is acquired; releases run in reverse order, on success and on error,
 * and a failing release does not stop the others.
 */
import type { Logger } from '../log.js';

interface Release {
  what: string;
  release: () => void | Promise<void>;
}

export class CleanupStack {
  private readonly releases: Release[] = [];

  constructor(private readonly log: Logger) {}

  defer(what: string, release: () => void | Promise<void>): void {
    this.releases.push({ what, release });
  }

  /** Run every release, newest first. Returns the errors, so the caller can report them with the run's own. */
  async unwind(): Promise<Error[]> {
    const errors: Error[] = [];
    while (this.releases.length > 0) {
      const { what, release } = this.releases.pop()!;
      try {
        this.log.debug({ step: 'cleanup', what }, `release ${what}`);
        await release();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        e.message = `cleanup of ${what} failed: ${e.message}`;
        errors.push(e);
      }
    }
    return errors;
  }
}
