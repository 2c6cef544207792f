/** Delete the host's conntrack entries that involve an address (executor for messages.ts). */
import { openNetlinkSocket } from '../../sys/netlink.js';
import { NETLINK_NETFILTER } from '../../sys/netlink-constants.js';
import { RtnlClient } from '../rtnetlink/client.js';
import type { NetworkTrace } from '../trace.js';
import { netlinkTrace } from '../trace.js';
import { type ConntrackEntry, deleteConntrack, dumpConntrack, involves, parseConntrack } from './messages.js';

export function conntrackEntries(trace?: NetworkTrace): ConntrackEntry[] {
  const c = new RtnlClient(openNetlinkSocket(NETLINK_NETFILTER), 'host conntrack', netlinkTrace(trace));
  try {
    return c.dump(dumpConntrack()).map((m) => parseConntrack(m.payload)).filter((e): e is ConntrackEntry => e !== null);
  } finally {
    c.close();
  }
}

/** Returns how many entries went; an entry that expired meanwhile (ENOENT) is not an error. */
export function flushConntrackFor(ip: string, trace?: NetworkTrace): number {
  return flushConntrackForAll(new Set([ip]), trace);
}

/** One dump for many addresses (the deferred flush, release.ts): the dump is the cost, not the deletes. */
export function flushConntrackForAll(ips: ReadonlySet<string>, trace?: NetworkTrace): number {
  if (ips.size === 0) return 0;
  const stale = conntrackEntries(trace).filter((e) => [...ips].some((ip) => involves(e, ip)));
  if (stale.length === 0) return 0;
  const c = new RtnlClient(openNetlinkSocket(NETLINK_NETFILTER), 'host conntrack', netlinkTrace(trace));
  try {
    let n = 0;
    for (const e of stale) if (c.tryDo(deleteConntrack(e), ['ENOENT']) === null) n++;
    return n;
  } finally {
    c.close();
  }
}
