/**
 * rtnetlink requests as bytes: each builder returns the message body and a sentence saying
 * what it does (for --debug and for error messages). Pure: no socket, no FFI.
 */
import {
  AF_BRIDGE, AF_INET, AF_UNSPEC, IFA, IFADDRMSG_LEN, IFF_UP, IFINFOMSG_LEN, IFLA, IFLA_BRPORT, IFLA_INFO, NLMSG_HDRLEN, NLM_F,
  RTA, RTMSG_LEN, RTM, RTN_UNICAST, RTPROT_BOOT, RT_SCOPE, RT_TABLE_MAIN, VETH_INFO_PEER,
} from '../../sys/netlink-constants.js';
import { type Attr, bytes, encodeAttrs, nest, str, u32, u8 } from './attrs.js';
import { ipv4Bytes, macBytes } from './addr.js';

/** One request before framing: the header's type and flags, the body, and what it does. */
export interface Request {
  type: number;
  flags: number;
  body: Buffer;
  what: string;
}

/** nlmsghdr + body, with the sequence number the answer will carry. */
export function frame(req: Request, seq: number): Buffer {
  const out = Buffer.alloc(NLMSG_HDRLEN + req.body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(req.type, 4);
  out.writeUInt16LE(req.flags, 6);
  out.writeUInt32LE(seq >>> 0, 8);
  out.writeUInt32LE(0, 12); // to the kernel
  req.body.copy(out, NLMSG_HDRLEN);
  return out;
}

export interface IfInfo {
  family?: number;
  index?: number;
  flags?: number;
  change?: number;
}

/** struct ifinfomsg: family, pad, type, index, flags, change. */
export function ifinfomsg(info: IfInfo = {}): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(info.family ?? AF_UNSPEC, 0);
  b.writeInt32LE(info.index ?? 0, 4);
  b.writeUInt32LE(info.flags ?? 0, 8);
  b.writeUInt32LE(info.change ?? 0, 12);
  return b;
}

const UP: IfInfo = { flags: IFF_UP, change: IFF_UP };
const CREATE = NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL;
const CHANGE = NLM_F.REQUEST | NLM_F.ACK;

const link = (type: number, flags: number, info: IfInfo, attrs: Attr[], what: string): Request => ({
  type, flags, what, body: Buffer.concat([ifinfomsg(info), encodeAttrs(attrs)]),
});

/** A bridge with a fixed MAC (else it takes a port's MAC and changes it as ports come and go), up. */
export function newBridge(name: string, mac: string): Request {
  return link(RTM.NEWLINK, CREATE, UP, [
    str(IFLA.IFNAME, name),
    bytes(IFLA.ADDRESS, macBytes(mac)),
    nest(IFLA.LINKINFO, [str(IFLA_INFO.KIND, 'bridge')]),
  ], `create bridge ${name} (mac ${mac}), up`);
}

export interface VethSpec {
  hostName: string;
  /** The bridge the host end joins (IFLA_MASTER at creation: one message, no window unattached). */
  masterIndex: number;
  peerName: string;
  /** The peer is born in this namespace: it never exists on the host under a reused name. */
  peerNetnsFd: number;
  peerMac?: string;
}

export function newVeth(spec: VethSpec): Request {
  const peerAttrs: Attr[] = [str(IFLA.IFNAME, spec.peerName), u32(IFLA.NET_NS_FD, spec.peerNetnsFd)];
  if (spec.peerMac) peerAttrs.push(bytes(IFLA.ADDRESS, macBytes(spec.peerMac)));
  // VETH_INFO_PEER's payload is a whole ifinfomsg followed by the peer's attributes.
  const peer: Attr = { type: VETH_INFO_PEER, data: Buffer.concat([ifinfomsg(), encodeAttrs(peerAttrs)]) };
  return link(RTM.NEWLINK, CREATE, UP, [
    str(IFLA.IFNAME, spec.hostName),
    u32(IFLA.MASTER, spec.masterIndex),
    nest(IFLA.LINKINFO, [str(IFLA_INFO.KIND, 'veth'), nest(IFLA_INFO.DATA, [peer])]),
  ], `create veth ${spec.hostName} on bridge #${spec.masterIndex}, up, with peer ${spec.peerName}${spec.peerMac ? ` (mac ${spec.peerMac})` : ''} inside netns fd ${spec.peerNetnsFd}`);
}

/**
 * Hairpin on a bridge port: the bridge may send a frame back out the port it came in on, so
 * a container reaches its own published port (DNAT turns it back towards itself).
 * AF_BRIDGE + IFLA_PROTINFO is the bridge's own per-port setlink (what `bridge link set` sends).
 */
export function setHairpin(index: number, on: boolean): Request {
  return link(RTM.SETLINK, CHANGE, { family: AF_BRIDGE, index }, [
    nest(IFLA.PROTINFO, [u8(IFLA_BRPORT.MODE, on ? 1 : 0)]),
  ], `hairpin ${on ? 'on' : 'off'} on bridge port #${index}`);
}

export function setLinkUp(index: number, name = `#${index}`): Request {
  return link(RTM.NEWLINK, CHANGE, { ...UP, index }, [], `set ${name} up`);
}

/** Delete by index, or by name when the index is unknown (a release after a crash). */
export function delLink(target: { index: number } | { name: string }): Request {
  return 'index' in target
    ? link(RTM.DELLINK, CHANGE, { index: target.index }, [], `delete link #${target.index}`)
    : link(RTM.DELLINK, CHANGE, {}, [str(IFLA.IFNAME, target.name)], `delete link ${target.name}`);
}

/** One link by name: the answer is an RTM_NEWLINK (with stats64) or an error (ENODEV). */
export function getLink(name: string): Request {
  return link(RTM.GETLINK, NLM_F.REQUEST, {}, [str(IFLA.IFNAME, name)], `get link ${name}`);
}

export function dumpLinks(): Request {
  return link(RTM.GETLINK, NLM_F.REQUEST | NLM_F.DUMP, {}, [], 'list links');
}

/** struct ifaddrmsg: family, prefixlen, flags, scope, index. */
export function ifaddrmsg(prefixLen: number, index: number): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(AF_INET, 0);
  b.writeUInt8(prefixLen, 1);
  b.writeUInt8(RT_SCOPE.UNIVERSE, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** IPv4 address ip/prefix on a link; IFA_LOCAL and IFA_ADDRESS are the same on a broadcast link. */
export function newAddr(index: number, ip: string, prefixLen: number, name = `#${index}`): Request {
  const a = ipv4Bytes(ip);
  return {
    type: RTM.NEWADDR,
    flags: CREATE,
    what: `add address ${ip}/${prefixLen} to ${name}`,
    body: Buffer.concat([ifaddrmsg(prefixLen, index), encodeAttrs([bytes(IFA.LOCAL, a), bytes(IFA.ADDRESS, a)])]),
  };
}

export interface RtMsg {
  family: number;
  dstLen: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
}

/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags. */
export function rtmsg(m: RtMsg): Buffer {
  const b = Buffer.alloc(RTMSG_LEN);
  b.writeUInt8(m.family, 0);
  b.writeUInt8(m.dstLen, 1);
  b.writeUInt8(m.table, 4);
  b.writeUInt8(m.protocol, 5);
  b.writeUInt8(m.scope, 6);
  b.writeUInt8(m.type, 7);
  return b;
}

export function newDefaultRoute(gateway: string, oif: number, name = `#${oif}`): Request {
  return {
    type: RTM.NEWROUTE,
    flags: CREATE,
    what: `add default route via ${gateway} dev ${name}`,
    body: Buffer.concat([
      rtmsg({ family: AF_INET, dstLen: 0, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope: RT_SCOPE.UNIVERSE, type: RTN_UNICAST }),
      encodeAttrs([bytes(RTA.GATEWAY, ipv4Bytes(gateway)), u32(RTA.OIF, oif)]),
    ]),
  };
}

export function dumpRoutes(): Request {
  return {
    type: RTM.GETROUTE,
    flags: NLM_F.REQUEST | NLM_F.DUMP,
    what: 'list IPv4 routes',
    body: rtmsg({ family: AF_INET, dstLen: 0, table: 0, protocol: 0, scope: 0, type: 0 }),
  };
}

/** Pure: the in-namespace requests, in the order the kernel must apply them (the route needs eth0 up with its address). */
export function insideRequests(cfg: { ifName: string; index: number; ip: string; prefixLen: number; gateway: string }): Request[] {
  // loopback is always ifindex 1 in a namespace (LOOPBACK_IFINDEX).
  return [
    setLinkUp(1, 'lo'),
    newAddr(cfg.index, cfg.ip, cfg.prefixLen, cfg.ifName),
    setLinkUp(cfg.index, cfg.ifName),
    newDefaultRoute(cfg.gateway, cfg.index, cfg.ifName),
  ];
}
