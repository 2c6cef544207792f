/**
 * One 512-byte tar header block, decoded. Pure. The rules follow GNU tar where formats
 * leave room, so that a header cannot mean one thing here and another to tar:
 * - numeric fields are octal (leading spaces allowed, ended by NUL or space, nothing else
 *   after the digits) or GNU base-256 (first byte's high bit set); anything else, and
 *   any negative value other than an mtime, is an error rather than a guess;
 * - the checksum is the unsigned byte sum with the checksum field as spaces; the signed
 *   sum that some old tars wrote is accepted too, as GNU tar accepts it;
 * - "ustar\0" (POSIX) headers join prefix and name; "ustar  \0" (GNU) headers have no
 *   prefix (GNU uses those bytes for other things); other magics are refused;
 * - names are cut at their first NUL and kept as bytes: a "byte string" with one char per
 *   byte (see entry-path.ts), since names in real archives are not always UTF-8.
 */
export class TarFormatError extends Error {
  constructor(
    readonly kind: 'corrupt' | 'truncated' | 'too-big',
    message: string,
  ) {
    super(message);
  }
}

export const BLOCK = 512;

/** What the typeflag says; extension headers are consumed by the reader, never returned as entries. */
export type HeaderType =
  | 'file'
  | 'contiguous-file'
  | 'link'
  | 'symlink'
  | 'character-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  | 'pax-header'
  | 'pax-global-header'
  | 'gnu-long-name'
  | 'gnu-long-link';

export interface TarHeader {
  name: string;
  /** null: a typeflag this extractor does not know (rejected when planned). */
  type: HeaderType | null;
  /** The typeflag byte as written, for messages. */
  typeflag: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (negative before 1970). */
  mtime: number;
  linkname: string | null;
  devmajor: number;
  devminor: number;
}

const types: Record<number, HeaderType> = {
  0x00: 'file',
  0x30: 'file', // '0'
  0x31: 'link',
  0x32: 'symlink',
  0x33: 'character-device',
  0x34: 'block-device',
  0x35: 'directory',
  0x36: 'fifo',
  0x37: 'contiguous-file',
  0x78: 'pax-header', // 'x'
  0x67: 'pax-global-header', // 'g'
  0x4c: 'gnu-long-name', // 'L'
  0x4b: 'gnu-long-link', // 'K'
};

const SPACE = 0x20;

/** True for a block of 512 zero bytes (the end-of-archive marker). */
export function isZeroBlock(buf: Uint8Array, off: number): boolean {
  for (let i = off, end = off + BLOCK; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Decode the header at buf[off..off+512]. Throws TarFormatError. */
export function decodeHeader(buf: Uint8Array, off: number): TarHeader {
  checkChecksum(buf, off);
  const posix = matches(buf, off + 257, USTAR_POSIX);
  if (!posix && !matches(buf, off + 257, USTAR_GNU)) {
    throw new TarFormatError('corrupt', 'a tar header is not in ustar, GNU or PAX format');
  }
  const typeflag = buf[off + 156]!;
  const type = types[typeflag] ?? null;
  const size = numeric(buf, off + 124, 12, false);
  if (size === null) throw new TarFormatError('corrupt', 'a tar header has an invalid size');
  // An extension header's own name and link name are never used (every rootfs member
  // has one: decoding them was a tenth of the parsing time).
  const extension = type === 'pax-header' || type === 'pax-global-header' || type === 'gnu-long-name' || type === 'gnu-long-link';
  let name = '';
  if (!extension) {
    name = text(buf, off, 100);
    if (posix && buf[off + 345] !== 0) name = `${text(buf, off + 345, 155)}/${name}`;
  }
  return {
    name,
    type,
    typeflag,
    mode: field(buf, off + 100, 8, 'mode'),
    uid: field(buf, off + 108, 8, 'uid'),
    gid: field(buf, off + 116, 8, 'gid'),
    size,
    mtime: numeric(buf, off + 136, 12, true) ?? invalid('mtime'),
    linkname: extension || buf[off + 157] === 0 ? null : text(buf, off + 157, 100),
    devmajor: field(buf, off + 329, 8, 'device major'),
    devminor: field(buf, off + 337, 8, 'device minor'),
  };
}

// "ustar\0" then any version (POSIX says "00"; some writers put spaces); GNU: "ustar  \0".
const USTAR_POSIX = [0x75, 0x73, 0x74, 0x61, 0x72, 0x00];
const USTAR_GNU = [0x75, 0x73, 0x74, 0x61, 0x72, 0x20, 0x20, 0x00];

function matches(buf: Uint8Array, off: number, magic: number[]): boolean {
  for (let i = 0; i < magic.length; i++) if (buf[off + i] !== magic[i]) return false;
  return true;
}

function checkChecksum(buf: Uint8Array, off: number): void {
  const stored = numeric(buf, off + 148, 8, false);
  if (stored !== null && stored === unsignedSum(buf, off)) return;
  if (stored !== null && stored === signedSum(buf, off)) return;
  throw new TarFormatError('corrupt', 'a tar header has a bad checksum');
}

/** The checksum: the unsigned byte sum, with the 8 bytes of the checksum field counted as spaces. */
function unsignedSum(buf: Uint8Array, off: number): number {
  let sum = 8 * SPACE;
  for (let i = off + 148; i < off + 156; i++) sum -= buf[i]!;
  const start = buf.byteOffset + off;
  if (start % 4 !== 0) {
    for (let i = off; i < off + BLOCK; i++) sum += buf[i]!;
    return sum;
  }
  // Four bytes at a time, two 16-bit lanes (each lane sums at most 256 bytes: no overflow).
  const words = new Uint32Array(buf.buffer, start, BLOCK / 4);
  let lanes = 0;
  for (let i = 0; i < BLOCK / 4; i++) {
    const w = words[i]!;
    lanes += (w & 0x00ff00ff) + ((w >>> 8) & 0x00ff00ff);
  }
  return sum + (lanes & 0xffff) + (lanes >>> 16);
}

/** The checksum some old tars computed, with bytes as signed chars. */
function signedSum(buf: Uint8Array, off: number): number {
  let sum = 8 * SPACE;
  for (let i = off; i < off + BLOCK; i++) {
    if (i >= off + 148 && i < off + 156) continue;
    const b = buf[i]!;
    sum += b < 128 ? b : b - 256;
  }
  return sum;
}

function field(buf: Uint8Array, off: number, len: number, what: string): number {
  return numeric(buf, off, len, false) ?? invalid(what);
}

function invalid(what: string): never {
  throw new TarFormatError('corrupt', `a tar header has an invalid ${what} field`);
}

/**
 * An octal or base-256 number field; null when malformed, out of the safe integer range,
 * or negative when `signed` is false.
 */
export function numeric(buf: Uint8Array, off: number, len: number, signed: boolean): number | null {
  const first = buf[off]!;
  if (first & 0x80) return base256(buf, off, len, signed);
  let i = off;
  const end = off + len;
  while (i < end && buf[i] === SPACE) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x37) break;
    value = value * 8 + (c - 0x30);
  }
  // After the digits: only terminators (NUL or space) up to the end of the field.
  for (; i < end; i++) if (buf[i] !== 0 && buf[i] !== SPACE) return null;
  if (digits === 0) return 0;
  return Number.isSafeInteger(value) ? value : null;
}

/** GNU base-256: big-endian two's complement in the bits after the first byte's high bit. */
function base256(buf: Uint8Array, off: number, len: number, signed: boolean): number | null {
  const negative = (buf[off]! & 0x40) !== 0;
  if (negative && !signed) return null;
  // Magnitude of a negative number: the bitwise complement, plus one at the end.
  const flip = negative ? 0xff : 0;
  let value = (buf[off]! ^ flip) & 0x3f;
  for (let i = off + 1; i < off + len; i++) {
    value = value * 256 + (buf[i]! ^ flip);
    if (value > Number.MAX_SAFE_INTEGER) return null;
  }
  return negative ? -(value + 1) : value;
}

/** A NUL-terminated (or field-filling) byte string: char codes are the bytes. */
function text(buf: Uint8Array, off: number, len: number): string {
  let end = off;
  const limit = off + len;
  while (end < limit && buf[end] !== 0) end++;
  if (end === off) return '';
  return String.fromCharCode.apply(null, buf.subarray(off, end) as unknown as number[]);
}

/** Bytes of padding after `size` bytes of data, up to the next block boundary. */
export function padding(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}
