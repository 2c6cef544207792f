import { UsageError } from '../errors.js';

/**
 * The rootfs archive (or directory) cannot be used as given: bad format, hostile or broken
 * entries, too big. One line that names the archive entry when there is one; the cause the
 * user can fix, so exit 125 like any usage error.
 */
export class RootfsError extends UsageError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { step: 'prepare rootfs', ...options });
  }
}

/** An error about one archive entry: `entry "etc/passwd": <why>`. */
export function entryError(name: string, why: string): RootfsError {
  return new RootfsError(`rootfs archive entry ${JSON.stringify(name)}: ${why}`);
}
