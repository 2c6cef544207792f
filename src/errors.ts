/**
 * The error types of tsbox. Every failure that reaches the user is a TsboxError:
 * it knows the step that failed, an optional hint on how to fix it, and the exit
 * status tsbox should end with. Rendering happens in one place (cli/render-error.ts).
 */

/** Exit statuses, docker-compatible: 125 is tsbox's own failure. */
export const EXIT_TSBOX_ERROR = 125;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

export interface TsboxErrorOptions {
  step?: string;
  hint?: string;
  exitCode?: number;
  cause?: unknown;
}

export class TsboxError extends Error {
  /** The setup step that failed, e.g. "prepare rootfs" or "mount /proc". */
  step: string | undefined;
  hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: TsboxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.step = options.step;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT_TSBOX_ERROR;
  }

  /** Name the step, unless a deeper caller already did (the deepest step is the most precise). */
  inStep(step: string): this {
    this.step ??= step;
    return this;
  }

  withHint(hint: string): this {
    this.hint ??= hint;
    return this;
  }
}

/** Invalid input from the user: flags, files, specs. Always exit 125. */
export class UsageError extends TsboxError {}

/** The command cannot be run in the container (126 not executable, 127 not found). */
export class CommandError extends TsboxError {}

/** Wrap anything thrown into a TsboxError without losing what it was. */
export function asTsboxError(err: unknown): TsboxError {
  if (err instanceof TsboxError) return err;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return new TsboxError(code ? `${err.message}` : err.message, { cause: err });
  }
  return new TsboxError(String(err));
}
