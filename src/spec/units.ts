/** A size flag (--max-rootfs-size...) as docker writes sizes: 512, 64k, 512m, 1.5g, 2KiB. */
import { parseSizeBytes } from '../cgroups/size.js';
import { UsageError } from '../errors.js';

export function parseSize(value: string, flag: string): number {
  const bytes = parseSizeBytes(value);
  if (bytes === null || bytes <= 0) {
    throw new UsageError(`invalid ${flag} value '${value}': expected a size like 512m or 1g`, {
      hint: 'Sizes are a number with an optional unit b, k, m, g or t (binary multiples).',
    });
  }
  return bytes;
}

/** A count flag (--max-rootfs-entries): a positive decimal integer. */
export function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (!/^[0-9]{1,15}$/.test(value) || n <= 0) {
    throw new UsageError(`invalid ${flag} value '${value}': expected a positive whole number`, { hint: 'For example 2000000.' });
  }
  return n;
}
