/**
 * Route attributes (struct rtattr / nlattr): a 4-byte header (length, type) then the payload,
 * padded to 4 bytes. Nested attributes are attributes whose payload is more attributes.
 * Pure: builds and reads Buffers.
 */
import { NLA_F_NESTED, NLA_TYPE_MASK } from '../../sys/netlink-constants.js';

export const align4 = (n: number): number => (n + 3) & ~3;

/** An attribute to encode: a raw payload or a list of nested attributes. */
export type Attr =
  | { type: number; data: Buffer }
  | { type: number; nested: Attr[] };

export function attrBytes(attr: Attr): Buffer {
  const payload = 'data' in attr ? attr.data : encodeAttrs(attr.nested);
  const type = 'data' in attr ? attr.type : attr.type | NLA_F_NESTED;
  const len = 4 + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export function encodeAttrs(attrs: Attr[]): Buffer {
  return Buffer.concat(attrs.map(attrBytes));
}

export const u32 = (type: number, value: number): Attr => {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(value >>> 0, 0);
  return { type, data };
};
export const u8 = (type: number, value: number): Attr => ({ type, data: Buffer.from([value]) });
/** A NUL-terminated string, as the kernel's NLA_STRING/NLA_NUL_STRING policies accept. */
export const str = (type: number, value: string): Attr => ({ type, data: Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]) });
export const bytes = (type: number, data: Buffer): Attr => ({ type, data });
export const nest = (type: number, nested: Attr[]): Attr => ({ type, nested });

/** A parsed attribute: its type without the NESTED/BYTEORDER bits, and its payload. */
export interface RawAttr {
  type: number;
  data: Buffer;
}

/** Read a run of attributes; a truncated or malformed one ends the run (the kernel's own rule). */
export function parseAttrs(buf: Buffer): RawAttr[] {
  const out: RawAttr[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.push({ type: buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, data: buf.subarray(off + 4, off + len) });
    off += align4(len);
  }
  return out;
}

export function findAttr(attrs: RawAttr[], type: number): Buffer | undefined {
  return attrs.find((a) => a.type === type)?.data;
}

export function attrString(data: Buffer | undefined): string | undefined {
  if (!data) return undefined;
  const nul = data.indexOf(0);
  return data.subarray(0, nul === -1 ? data.length : nul).toString('utf8');
}
