import { describe, expect, it } from 'vitest';
import { describeTrace, nlmsgHeaderText } from '../../src/network/trace.js';
import { frame, delLink, dumpRoutes, newAddr, newBridge } from '../../src/network/rtnetlink/messages.js';

describe('netlink messages by name in --debug and --explain', () => {
  it('names the header of the bytes sent: type and flags', () => {
    expect(nlmsgHeaderText(frame(newBridge('tsbrx', '02:00:0a:2e:07:01'), 1))).toBe('RTM_NEWLINK NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE');
    expect(nlmsgHeaderText(frame(newAddr(3, '10.46.7.1', 24, 'tsbrx'), 2))).toBe('RTM_NEWADDR NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE');
    expect(nlmsgHeaderText(frame(dumpRoutes(), 3))).toBe('RTM_GETROUTE NLM_F_REQUEST|NLM_F_DUMP');
    expect(nlmsgHeaderText(frame(delLink({ name: 'tsbrx' }), 4))).toMatch(/^RTM_DELLINK NLM_F_REQUEST\|NLM_F_ACK$/);
  });

  it('a failed message shows its errno by name', () => {
    expect(describeTrace({ kind: 'netlink', what: 'delete link tsbrx', result: -19, detail: 'RTM_DELLINK NLM_F_REQUEST|NLM_F_ACK, host, 32 bytes' })).toBe('netlink: delete link tsbrx [RTM_DELLINK NLM_F_REQUEST|NLM_F_ACK, host, 32 bytes] failed (ENODEV)');
    expect(describeTrace({ kind: 'nft', what: 'list table ip tsbox', result: -1, detail: 'nft' })).toBe('nft: list table ip tsbox [nft] failed (-1)');
  });
});
