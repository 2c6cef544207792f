/**
 * One hook for --debug / --explain: every netlink message and every firewall change, with a
 * sentence saying what it does and its outcome (0, or a negative errno for netlink).
 */
import type { NetlinkTrace } from './rtnetlink/client.js';

export type NetworkTrace = (event: { kind: 'netlink' | 'nft'; what: string; result: number; detail: string }) => void;

export function netlinkTrace(trace: NetworkTrace | undefined): NetlinkTrace | undefined {
  if (!trace) return undefined;
  return (e) => trace({ kind: 'netlink', what: e.what, result: e.result, detail: `${e.ns}, ${e.bytes.length} bytes` });
}

/** The line --debug prints. */
export function describeTrace(e: Parameters<NetworkTrace>[0]): string {
  const outcome = e.result < 0 ? `failed (${e.result})` : 'ok';
  return `${e.kind}: ${e.what.replace(/\n/g, '; ')} [${e.detail}] ${outcome}`;
}
