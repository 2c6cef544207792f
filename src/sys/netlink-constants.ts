/**
 * rtnetlink constants (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h),
 * in a module that loads no FFI: the pure message builder and parser (src/network/rtnetlink)
 * and their unit tests import them without loading koffi.
 */

export { AF_UNSPEC, AF_INET, AF_NETLINK, AF_BRIDGE, SOCK_RAW, SOCK_CLOEXEC, SOL_SOCKET, SO_RCVTIMEO } from './socket-flags.js';
export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;
export const SOL_NETLINK = 270;
/** Ask the kernel to put its error text (extack) in NLMSG_ERROR answers. */
export const NETLINK_EXT_ACK = 11;
/** Do not echo the whole request back in an error: only its header. */
export const NETLINK_CAP_ACK = 10;

/** nlmsghdr.nlmsg_type values. */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3 } as const;
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

/** nlmsghdr.nlmsg_flags. */
export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  /** In an NLMSG_ERROR answer: the request was cut to its header (NETLINK_CAP_ACK). */
  CAPPED: 0x100,
  /** In an NLMSG_ERROR answer: extended-ack attributes follow. */
  ACK_TLVS: 0x200,
} as const;

/** Attributes of an extended ack (linux/netlink.h enum nlmsgerr_attrs). */
export const NLMSGERR_ATTR = { MSG: 1, OFFS: 2, COOKIE: 3 } as const;

export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

/** struct ifinfomsg attributes (linux/if_link.h). */
export const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  STATS: 7,
  MASTER: 10,
  PROTINFO: 12,
  TXQLEN: 13,
  OPERSTATE: 16,
  LINKINFO: 18,
  NET_NS_PID: 19,
  STATS64: 23,
  NET_NS_FD: 28,
} as const;

export const IFLA_INFO = { KIND: 1, DATA: 2, XSTATS: 3, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
export const VETH_INFO_PEER = 1;
/** Bridge port attributes (IFLA_BRPORT_*): MODE is hairpin. */
export const IFLA_BRPORT = { STATE: 1, MODE: 4 } as const;

/** struct ifaddrmsg attributes (linux/if_addr.h). */
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4 } as const;

/** struct rtmsg attributes and field values (linux/rtnetlink.h). */
export const RTA = { DST: 1, SRC: 2, IIF: 3, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, TABLE: 15 } as const;
export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RTPROT_KERNEL = 2;
export const RT_SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254 } as const;
export const RTN_UNICAST = 1;

/** net_device flags (linux/if.h). */
export const IFF_UP = 0x1;

export const NLMSG_HDRLEN = 16;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;

/** nfnetlink / ctnetlink (linux/netfilter/nfnetlink.h, nfnetlink_conntrack.h). */
export const NFNL_SUBSYS_CTNETLINK = 1;
export const IPCTNL_MSG = { NEW: 0, GET: 1, DELETE: 2 } as const;
export const NFGENMSG_LEN = 4;
export const CTA = { TUPLE_ORIG: 1, TUPLE_REPLY: 2, STATUS: 3, ID: 12, ZONE: 18 } as const;
export const CTA_TUPLE = { IP: 1, PROTO: 2, ZONE: 3 } as const;
export const CTA_IP = { V4_SRC: 1, V4_DST: 2 } as const;
export const CTA_PROTO = { NUM: 1, SRC_PORT: 2, DST_PORT: 3 } as const;
