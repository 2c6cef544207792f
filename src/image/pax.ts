/**
 * PAX extended header records ("<len> <key>=<value>\n"), parsed from the raw bytes.
 * Values stay bytes: SCHILY.xattr.* values are binary (security.capability holds bytes
 * above 0x7f and NULs) and must reach setxattr unchanged, which a UTF-8 decoding would break.
 * Malformed records reject the archive instead of being skipped, so a header cannot say
 * one thing to this parser and another to tar.
 */
export class PaxFormatError extends Error {}

export type PaxRecords = Map<string, Buffer>;

const SPACE = 0x20;
const NEWLINE = 0x0a;
const EQUALS = 0x3d;

/**
 * `buf` must not be reused afterwards: the values are views into it. More than
 * `maxRecords` records refuse the header (each record costs every member it applies to).
 */
export function parsePaxRecords(buf: Uint8Array, maxRecords = Infinity): PaxRecords {
  const records: PaxRecords = new Map();
  let count = 0;
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  let pos = 0;
  while (pos < bytes.length) {
    // Some writers pad the header data with NULs after the last record.
    if (bytes[pos] === 0 && bytes.subarray(pos).every((b) => b === 0)) break;
    // "<len> ": 1 to 10 decimal digits, no leading zero.
    let length = 0;
    let space = pos;
    for (; space < bytes.length && space - pos <= 10; space++) {
      const c = bytes[space]!;
      if (c < 0x30 || c > 0x39 || (c === 0x30 && space === pos)) break;
      length = length * 10 + (c - 0x30);
    }
    if (space === pos || space - pos > 10 || bytes[space] !== SPACE) throw new PaxFormatError(`bad PAX record length at byte ${pos}`);
    const end = pos + length;
    if (end > bytes.length || end <= space + 1) throw new PaxFormatError(`PAX record at byte ${pos} overruns the header`);
    if (bytes[end - 1] !== NEWLINE) throw new PaxFormatError(`PAX record at byte ${pos} does not end with a newline`);
    const eq = bytes.indexOf(EQUALS, space + 1);
    if (eq === -1 || eq >= end - 1 || eq === space + 1) throw new PaxFormatError(`PAX record at byte ${pos} has no key=value`);
    if (++count > maxRecords) throw new PaxFormatError(`more than ${maxRecords} records in one header`);
    records.set(keyText(bytes, space + 1, eq, pos), bytes.subarray(eq + 1, end - 1));
    pos = end;
  }
  return records;
}

/** A record's key: almost always short ASCII ("mtime", "SCHILY.xattr.user.x"), decoded without a decoder. */
function keyText(bytes: Buffer, start: number, end: number, pos: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c === 0) throw new PaxFormatError(`PAX record at byte ${pos} has a NUL byte in its key`);
    if (c >= 0x80) ascii = false;
  }
  return bytes.toString(ascii ? 'latin1' : 'utf8', start, end);
}

/**
 * A text value (path, linkpath, size, mtime...) as a byte string: one char per byte, so a
 * path that is not valid UTF-8 keeps its bytes (see entry-path.ts). NUL bytes are not
 * allowed in them.
 */
export function paxText(records: PaxRecords, key: string): string | undefined {
  const value = records.get(key);
  if (value === undefined) return undefined;
  if (value.includes(0)) throw new PaxFormatError(`PAX ${key} contains a NUL byte`);
  return value.toString('latin1');
}
