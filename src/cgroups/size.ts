/**
 * Sizes the way docker reads them for --memory and friends: a number (decimals allowed)
 * with an optional unit b, k, m, g or t, optionally followed by "b" or "ib", in any case.
 * All multiples are binary (docker's RAMInBytes: "1kb" is 1024). Pure.
 */
const MULTIPLIER: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

// "b" alone is a unit; after k/m/g/t an optional "b" or "ib" adds nothing.
const SIZE = /^(\d+(?:\.\d+)?)\s?(?:(b)|([kmgt])(?:i?b)?)?$/i;

/** Bytes, or null when the text is not a size. Never negative; floors fractions of a byte. */
export function parseSizeBytes(text: string): number | null {
  const m = SIZE.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? m[3] ?? '').toLowerCase();
  const bytes = Math.floor(Number(m[1]) * MULTIPLIER[unit]!);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** 1536 -> "1.5KiB": for messages and the stats line. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${bytes}B` : `${value.toFixed(value < 10 ? 1 : 0)}${units[i]}`;
}
