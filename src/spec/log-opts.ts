/**
 * --log-opt max-size=SIZE, --log-opt max-file=N (docker's json-file options; also
 * accepted comma-separated: max-size=10m,max-file=3). Without max-size the log is not
 * limited, as docker's default json-file log; max-file needs max-size (docker refuses it
 * too) and defaults to 1: the log is started afresh when it is full. Pure.
 */
import { UsageError } from '../errors.js';
import { parseSize } from './units.js';

export interface LogLimits {
  /** Bytes a log file may reach before it is rotated; null: unlimited. */
  maxSize: number | null;
  /** How many files are kept, the current one included. */
  maxFile: number;
}

export const UNLIMITED_LOG: LogLimits = { maxSize: null, maxFile: 1 };

export function parseLogOpts(opts: readonly string[]): LogLimits {
  let maxSize: number | null = null;
  let maxFile: number | null = null;
  for (const opt of opts.flatMap((o) => o.split(',')).filter((o) => o !== '')) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'max-size') {
      maxSize = parseSize(value, '--log-opt max-size');
      if (maxSize < 1) throw new UsageError(`invalid --log-opt max-size=${value}: must be more than 0`);
    } else if (key === 'max-file') {
      if (!/^[1-9]\d{0,3}$/.test(value)) throw new UsageError(`invalid --log-opt max-file=${value}: expected a whole number from 1`, { hint: 'For example --log-opt max-file=3.' });
      maxFile = Number(value);
    } else {
      throw new UsageError(`unknown --log-opt '${opt}'`, { hint: 'tsbox supports max-size=SIZE and max-file=N.' });
    }
  }
  if (maxFile !== null && maxSize === null) throw new UsageError('--log-opt max-file needs max-size', { hint: 'For example --log-opt max-size=10m --log-opt max-file=3.' });
  return { maxSize, maxFile: maxFile ?? 1 };
}
