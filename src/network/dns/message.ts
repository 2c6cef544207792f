/**
 * DNS messages (RFC 1035), pure: enough for the per-network name responder designed in
 * docs/networking.md: read a query's id, flags and question; answer A records for
 * container names; answer NXDOMAIN/refuse; pass anything else to the upstream unchanged.
 */

export const TYPE_A = 1;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export interface Question {
  name: string;
  type: number;
  cls: number;
}

export interface Query {
  id: number;
  flags: number;
  questions: Question[];
  /** Bytes of the header and question section: an answer repeats them. */
  questionEnd: number;
}

/** A name at `off`; compression pointers are followed (bounded, so a loop cannot hang us). */
export function readName(buf: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  for (let hops = 0; hops < 64; hops++) {
    if (off >= buf.length) throw new Error('name runs past the message');
    const len = buf[off]!;
    if (len === 0) {
      return { name: labels.join('.'), next: next === -1 ? off + 1 : next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) throw new Error('truncated pointer');
      if (next === -1) next = off + 2;
      off = ((len & 0x3f) << 8) | buf[off + 1]!;
      continue;
    }
    if (len > 63 || off + 1 + len > buf.length) throw new Error('bad label');
    labels.push(buf.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  throw new Error('too many labels or pointers');
}

export function parseQuery(buf: Buffer): Query {
  if (buf.length < 12) throw new Error('shorter than a DNS header');
  const qd = buf.readUInt16BE(4);
  if (qd > 16) throw new Error('too many questions');
  let off = 12;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, off);
    if (next + 4 > buf.length) throw new Error('truncated question');
    questions.push({ name: name.toLowerCase(), type: buf.readUInt16BE(next), cls: buf.readUInt16BE(next + 2) });
    off = next + 4;
  }
  return { id: buf.readUInt16BE(0), flags: buf.readUInt16BE(2), questions, questionEnd: off };
}

export function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const out: Buffer[] = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'latin1');
    if (b.length > 63) throw new Error(`label too long: ${p}`);
    out.push(Buffer.from([b.length]), b);
  }
  out.push(Buffer.from([0]));
  return Buffer.concat(out);
}

export function buildQuery(id: number, name: string, type = TYPE_A): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([h, encodeName(name), q]);
}

/**
 * The answer to `query` (its raw bytes): the header and question repeated, QR and RA set, the
 * given A records, each pointing back at the question's name (offset 12) to stay small.
 */
export function buildAnswer(raw: Buffer, query: Query, addresses: string[], rcode: number, ttl = 5): Buffer {
  const head = Buffer.from(raw.subarray(0, query.questionEnd));
  const rd = query.flags & 0x0100;
  head.writeUInt16BE(0x8000 | rd | 0x0080 | (rcode & 0xf), 2); // QR, RD copied, RA
  head.writeUInt16BE(addresses.length, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  const answers = addresses.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((p, i) => rr.writeUInt8(Number(p), 12 + i));
    return rr;
  });
  return Buffer.concat([head, ...answers]);
}

/** Read the A records of an answer (for tests and for a forwarder that logs). */
export function answerAddresses(buf: Buffer): { rcode: number; addresses: string[] } {
  const q = parseQuery(buf);
  const an = buf.readUInt16BE(6);
  let off = q.questionEnd;
  const addresses: string[] = [];
  for (let i = 0; i < an; i++) {
    const { next } = readName(buf, off);
    const type = buf.readUInt16BE(next);
    const len = buf.readUInt16BE(next + 8);
    if (type === TYPE_A && len === 4) addresses.push([...buf.subarray(next + 10, next + 14)].join('.'));
    off = next + 10 + len;
  }
  return { rcode: q.flags & 0xf, addresses };
}

export type Decision = { kind: 'answer'; bytes: Buffer } | { kind: 'forward' };

/**
 * The responder's one decision, pure: a single A/IN question for a name on this network
 * (with or without the network's domain) is answered from `names`; a name of the network's
 * domain that is unknown gets NXDOMAIN; everything else goes to the upstream resolver.
 */
export function decide(raw: Buffer, names: Map<string, string[]>, domain: string): Decision {
  let q: Query;
  try {
    q = parseQuery(raw);
  } catch {
    return { kind: 'forward' };
  }
  if (q.questions.length !== 1 || q.flags & 0x8000) return { kind: 'forward' };
  const { name, type, cls } = q.questions[0]!;
  const short = name.endsWith(`.${domain}`) ? name.slice(0, -domain.length - 1) : name;
  const hit = names.get(short);
  if (hit && cls === CLASS_IN) return { kind: 'answer', bytes: buildAnswer(raw, q, type === TYPE_A ? hit : [], RCODE.NOERROR) };
  if (name.endsWith(`.${domain}`)) return { kind: 'answer', bytes: buildAnswer(raw, q, [], RCODE.NXDOMAIN) };
  return { kind: 'forward' };
}
