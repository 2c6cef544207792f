/**
 * The registry client's one error type: a TsboxError in step "pull" (or the step the
 * caller names), so every failure renders as one line and exits 125.
 */
import { TsboxError, type TsboxErrorOptions } from '../errors.js';

export class RegistryError extends TsboxError {
  constructor(message: string, options: TsboxErrorOptions = {}) {
    super(message, { step: 'pull', ...options });
  }
}

/** The transfer was stopped by SIGINT/SIGTERM: partial files stay for the next pull to resume. */
export class PullInterrupted extends TsboxError {
  constructor(signal: NodeJS.Signals) {
    const number = signal === 'SIGINT' ? 2 : 15;
    super(`interrupted by ${signal}`, { step: 'pull', hint: 'Run the same pull again to resume the partial downloads.', exitCode: 128 + number });
  }
}
