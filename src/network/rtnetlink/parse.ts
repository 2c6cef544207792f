/**
 * Kernel answers: split a datagram into messages, read errors with their extended-ack text,
 * links (name, index, master, MAC, kind, byte counters) and routes. Pure.
 */
import {
  IFA, IFINFOMSG_LEN, IFLA, IFLA_INFO, NLMSGERR_ATTR, NLMSG_HDRLEN, NLM_F, RTA, RTMSG_LEN,
} from '../../sys/netlink-constants.js';
import { attrString, findAttr, parseAttrs } from './attrs.js';
import { ipv4String, macString } from './addr.js';

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Buffer;
}

export function parseMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

/** An NLMSG_ERROR: errno 0 is the ack of a request that succeeded. */
export interface NlError {
  errno: number;
  /** The kernel's own words (extended ack), e.g. "Invalid prefix for given prefix length". */
  message?: string;
  /** Byte offset in the request of the attribute the kernel blamed. */
  offset?: number;
}

/**
 * struct nlmsgerr: int error, then the request's nlmsghdr (whole request unless CAPPED), then,
 * with ACK_TLVS, the extended-ack attributes.
 */
export function parseError(msg: NlMessage): NlError {
  const raw = msg.payload.readInt32LE(0);
  const errno = raw === 0 ? 0 : -raw; // not -0 for an ack
  const out: NlError = { errno };
  if (!(msg.flags & NLM_F.ACK_TLVS)) return out;
  const origLen = msg.payload.readUInt32LE(4);
  const skip = msg.flags & NLM_F.CAPPED ? NLMSG_HDRLEN : origLen;
  const attrs = parseAttrs(msg.payload.subarray(4 + ((skip + 3) & ~3)));
  const text = attrString(findAttr(attrs, NLMSGERR_ATTR.MSG));
  if (text) out.message = text;
  const offs = findAttr(attrs, NLMSGERR_ATTR.OFFS);
  if (offs && offs.length >= 4) out.offset = offs.readUInt32LE(0);
  return out;
}

export interface LinkInfo {
  index: number;
  flags: number;
  name: string;
  master?: number;
  mac?: string;
  kind?: string;
  rxBytes?: bigint;
  txBytes?: bigint;
  rxPackets?: bigint;
  txPackets?: bigint;
}

/** An RTM_NEWLINK answer (ifinfomsg + attributes). */
export function parseLink(payload: Buffer): LinkInfo {
  const attrs = parseAttrs(payload.subarray(IFINFOMSG_LEN));
  const out: LinkInfo = {
    index: payload.readInt32LE(4),
    flags: payload.readUInt32LE(8),
    name: attrString(findAttr(attrs, IFLA.IFNAME)) ?? '',
  };
  const master = findAttr(attrs, IFLA.MASTER);
  if (master) out.master = master.readUInt32LE(0);
  const mac = findAttr(attrs, IFLA.ADDRESS);
  if (mac && mac.length === 6) out.mac = macString(mac);
  const linkinfo = findAttr(attrs, IFLA.LINKINFO);
  if (linkinfo) out.kind = attrString(findAttr(parseAttrs(linkinfo), IFLA_INFO.KIND));
  // struct rtnl_link_stats64 starts rx_packets, tx_packets, rx_bytes, tx_bytes (u64 each).
  const stats = findAttr(attrs, IFLA.STATS64);
  if (stats && stats.length >= 32) {
    out.rxPackets = stats.readBigUInt64LE(0);
    out.txPackets = stats.readBigUInt64LE(8);
    out.rxBytes = stats.readBigUInt64LE(16);
    out.txBytes = stats.readBigUInt64LE(24);
  }
  return out;
}

export interface RouteInfo {
  dst: string;
  dstLen: number;
  table: number;
  type: number;
  oif?: number;
  gateway?: string;
}

export function parseRoute(payload: Buffer): RouteInfo {
  const attrs = parseAttrs(payload.subarray(RTMSG_LEN));
  const table = findAttr(attrs, RTA.TABLE);
  const dst = findAttr(attrs, RTA.DST);
  const oif = findAttr(attrs, RTA.OIF);
  const gw = findAttr(attrs, RTA.GATEWAY);
  const out: RouteInfo = {
    dst: dst ? ipv4String(dst) : '0.0.0.0',
    dstLen: payload.readUInt8(1),
    table: table ? table.readUInt32LE(0) : payload.readUInt8(4),
    type: payload.readUInt8(7),
  };
  if (oif) out.oif = oif.readUInt32LE(0);
  if (gw) out.gateway = ipv4String(gw);
  return out;
}

export function parseAddrLocal(payload: Buffer): string | undefined {
  const a = findAttr(parseAttrs(payload.subarray(8)), IFA.LOCAL);
  return a ? ipv4String(a) : undefined;
}
