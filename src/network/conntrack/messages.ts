/**
 * ctnetlink requests and answers, pure (trap 5). conntrack keeps the NAT decision of a flow
 * made before a rule changed: when a container's address or a published port is reused, a
 * stale UDP entry would keep sending the new owner's traffic to the old destination (or the
 * old mapping alive). Releasing a lease deletes the host's entries that involve its address.
 */
import { AF_INET, CTA, CTA_IP, CTA_PROTO, CTA_TUPLE, IPCTNL_MSG, NFGENMSG_LEN, NFNL_SUBSYS_CTNETLINK, NLA_F_NESTED, NLM_F } from '../../sys/netlink-constants.js';
import { type Attr, encodeAttrs, findAttr, parseAttrs, type RawAttr } from '../rtnetlink/attrs.js';
import { ipv4String } from '../rtnetlink/addr.js';
import type { Request } from '../rtnetlink/messages.js';

const type = (msg: number) => (NFNL_SUBSYS_CTNETLINK << 8) | msg;

/** struct nfgenmsg: family, version 0, res_id 0. */
function nfgenmsg(): Buffer {
  return Buffer.from([AF_INET, 0, 0, 0]);
}

export function dumpConntrack(): Request {
  return { type: type(IPCTNL_MSG.GET), flags: NLM_F.REQUEST | NLM_F.DUMP, body: nfgenmsg(), what: 'list IPv4 conntrack entries' };
}

export interface Tuple {
  src: string;
  dst: string;
  proto: number;
  sport?: number;
  dport?: number;
}

export interface ConntrackEntry {
  orig: Tuple;
  reply: Tuple;
  /** The CTA_TUPLE_ORIG attribute's payload as the kernel sent it, to delete the entry by. */
  origRaw: Buffer;
  zone?: Buffer;
}

function tuple(data: Buffer): Tuple {
  const attrs = parseAttrs(data);
  const ip = parseAttrs(findAttr(attrs, CTA_TUPLE.IP) ?? Buffer.alloc(0));
  const proto = parseAttrs(findAttr(attrs, CTA_TUPLE.PROTO) ?? Buffer.alloc(0));
  const src = findAttr(ip, CTA_IP.V4_SRC);
  const dst = findAttr(ip, CTA_IP.V4_DST);
  const num = findAttr(proto, CTA_PROTO.NUM);
  const sport = findAttr(proto, CTA_PROTO.SRC_PORT);
  const dport = findAttr(proto, CTA_PROTO.DST_PORT);
  return {
    src: src ? ipv4String(src) : '',
    dst: dst ? ipv4String(dst) : '',
    proto: num ? num[0]! : 0,
    ...(sport ? { sport: sport.readUInt16BE(0) } : {}),
    ...(dport ? { dport: dport.readUInt16BE(0) } : {}),
  };
}

export function parseConntrack(payload: Buffer): ConntrackEntry | null {
  const attrs: RawAttr[] = parseAttrs(payload.subarray(NFGENMSG_LEN));
  const orig = findAttr(attrs, CTA.TUPLE_ORIG);
  const reply = findAttr(attrs, CTA.TUPLE_REPLY);
  if (!orig || !reply) return null;
  const zone = findAttr(attrs, CTA.ZONE);
  return { orig: tuple(orig), reply: tuple(reply), origRaw: Buffer.from(orig), ...(zone ? { zone: Buffer.from(zone) } : {}) };
}

/** Flows to or from `ip`: sent by it, or answered by it (a DNATed published port included). */
export function involves(e: ConntrackEntry, ip: string): boolean {
  return e.orig.src === ip || e.orig.dst === ip || e.reply.src === ip || e.reply.dst === ip;
}

export function deleteConntrack(e: ConntrackEntry): Request {
  // The tuple goes back byte for byte as the kernel described it (flags of its nests included).
  const attrs: Attr[] = [{ type: CTA.TUPLE_ORIG | NLA_F_NESTED, data: e.origRaw }];
  if (e.zone) attrs.push({ type: CTA.ZONE, data: e.zone });
  const t = e.orig;
  return {
    type: type(IPCTNL_MSG.DELETE),
    flags: NLM_F.REQUEST | NLM_F.ACK,
    body: Buffer.concat([nfgenmsg(), encodeAttrs(attrs)]),
    what: `delete conntrack entry proto ${t.proto} ${t.src}${t.sport ? `:${t.sport}` : ''} -> ${t.dst}${t.dport ? `:${t.dport}` : ''}`,
  };
}
