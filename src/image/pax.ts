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

/** `buf` must not be reused afterwards: the values are views into it. */
export function parsePaxRecords(buf: Uint8Array): PaxRecords {
  const records: PaxRecords = new Map();
  let pos = 0;
  while (pos < buf.length) {
    // Some writers pad the header data with NULs after the last record.
    if (buf[pos] === 0 && buf.subarray(pos).every((b) => b === 0)) break;
    const space = buf.indexOf(SPACE, pos);
    const lenText = space === -1 ? '' : Buffer.from(buf.subarray(pos, space)).toString('latin1');
    if (!/^[1-9][0-9]{0,9}$/.test(lenText)) throw new PaxFormatError(`bad PAX record length at byte ${pos}`);
    const end = pos + parseInt(lenText, 10);
    if (end > buf.length || end <= space + 1) throw new PaxFormatError(`PAX record at byte ${pos} overruns the header`);
    if (buf[end - 1] !== NEWLINE) throw new PaxFormatError(`PAX record at byte ${pos} does not end with a newline`);
    const eq = buf.indexOf(EQUALS, space + 1);
    if (eq === -1 || eq >= end - 1 || eq === space + 1) throw new PaxFormatError(`PAX record at byte ${pos} has no key=value`);
    const keyBytes = buf.subarray(space + 1, eq);
    if (keyBytes.includes(0)) throw new PaxFormatError(`PAX record at byte ${pos} has a NUL byte in its key`);
    // A view, not a copy: callers hand over a buffer of their own (never a reused one).
    records.set(Buffer.from(keyBytes.buffer, keyBytes.byteOffset, keyBytes.length).toString('utf8'), Buffer.from(buf.buffer, buf.byteOffset + eq + 1, end - 1 - (eq + 1)));
    pos = end;
  }
  return records;
}

/** A text value (path, size, mtime...): NUL bytes are not allowed in them. */
export function paxText(records: PaxRecords, key: string): string | undefined {
  const value = records.get(key);
  if (value === undefined) return undefined;
  if (value.includes(0)) throw new PaxFormatError(`PAX ${key} contains a NUL byte`);
  return value.toString('utf8');
}
