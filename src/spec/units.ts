/** Sizes as docker writes them: 512, 512b, 64k, 512m, 1g, 1.5g, 2KiB, 1GB (binary multiples). Pure. */
import { UsageError } from '../errors.js';

const MULTIPLIERS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

export function parseSize(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$/i.exec(value);
  const unit = m?.[2]?.toLowerCase() ?? '';
  const bytes = m ? Math.floor(Number(m[1]) * MULTIPLIERS[unit]!) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UsageError(`invalid ${flag} value '${value}': expected a size like 512m or 1g`, {
      hint: 'Sizes are a number with an optional unit b, k, m, g or t (binary multiples).',
    });
  }
  return bytes;
}
