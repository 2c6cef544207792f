/**
 * One hook for --debug / --explain: every netlink message and every firewall change, with a
 * sentence saying what it does and its outcome (0, or a negative errno for netlink). The
 * netlink header is named symbolically (RTM_NEWLINK, NLM_F_REQUEST|NLM_F_ACK|...), read from
 * the bytes that were sent: built only when a trace is set, so the normal path pays nothing.
 */
import { enumName, flagNames } from '../explain/format-call.js';
import { errnoName } from '../sys/errno.js';
import { NLM_F, RTM } from '../sys/netlink-constants.js';
import type { NetlinkTrace } from './rtnetlink/client.js';

export type NetworkTrace = (event: { kind: 'netlink' | 'nft'; what: string; result: number; detail: string }) => void;

// NLM_F's values overlap: GET requests use the dump bits, NEW requests the create bits.
const GET_FLAGS = { REQUEST: NLM_F.REQUEST, ACK: NLM_F.ACK, DUMP: NLM_F.DUMP, ROOT: NLM_F.ROOT, MATCH: NLM_F.MATCH };
const NEW_FLAGS = { REQUEST: NLM_F.REQUEST, ACK: NLM_F.ACK, ECHO: NLM_F.ECHO, REPLACE: NLM_F.REPLACE, EXCL: NLM_F.EXCL, CREATE: NLM_F.CREATE, APPEND: NLM_F.APPEND };

/** A framed request's nlmsghdr by name: "RTM_NEWLINK NLM_F_REQUEST|NLM_F_ACK|NLM_F_CREATE|NLM_F_EXCL". */
export function nlmsgHeaderText(bytes: Buffer): string {
  if (bytes.length < 8) return '?';
  const type = bytes.readUInt16LE(4);
  const flags = bytes.readUInt16LE(6);
  const name = enumName(type, RTM, 'RTM_');
  return `${name} ${flagNames(flags, name.startsWith('RTM_GET') ? GET_FLAGS : NEW_FLAGS, 'NLM_F_')}`;
}

export function netlinkTrace(trace: NetworkTrace | undefined): NetlinkTrace | undefined {
  if (!trace) return undefined;
  return (e) => trace({ kind: 'netlink', what: e.what, result: e.result, detail: `${nlmsgHeaderText(e.bytes)}, ${e.ns}, ${e.bytes.length} bytes` });
}

/** The line --debug prints (a netlink failure by its errno's name). */
export function describeTrace(e: Parameters<NetworkTrace>[0]): string {
  const outcome = e.result < 0 ? `failed (${e.kind === 'netlink' ? errnoName(-e.result) : e.result})` : 'ok';
  return `${e.kind}: ${e.what.replace(/\n/g, '; ')} [${e.detail}] ${outcome}`;
}
