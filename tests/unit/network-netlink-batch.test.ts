import { describe, expect, it } from 'vitest';
import { NLMSGERR_ATTR, NLMSG, NLM_F, RTM } from '../../src/sys/netlink-constants.js';
import { AckCollector, frameBatch } from '../../src/network/rtnetlink/batch.js';
import { RtnlClient, type NetlinkTransport } from '../../src/network/rtnetlink/client.js';
import { NetlinkError } from '../../src/network/rtnetlink/errors.js';
import { dumpLinks, getLink, insideRequests, newAddr, newDefaultRoute, setLinkUp } from '../../src/network/rtnetlink/messages.js';
import { parseMessages } from '../../src/network/rtnetlink/parse.js';

/** An NLMSG_ERROR as the kernel sends it: capped (the request's header only), with the extended-ack text when given. */
function ack(seq: number, errno = 0, text?: string): Buffer {
  const tlv = text === undefined ? Buffer.alloc(0) : (() => {
    const t = Buffer.from(`${text}\0`);
    const b = Buffer.alloc((4 + t.length + 3) & ~3);
    b.writeUInt16LE(4 + t.length, 0);
    b.writeUInt16LE(NLMSGERR_ATTR.MSG, 2);
    t.copy(b, 4);
    return b;
  })();
  const m = Buffer.alloc(16 + 4 + 16 + tlv.length);
  m.writeUInt32LE(m.length, 0);
  m.writeUInt16LE(NLMSG.ERROR, 4);
  m.writeUInt16LE(NLM_F.CAPPED | (text === undefined ? 0 : NLM_F.ACK_TLVS), 6);
  m.writeUInt32LE(seq, 8);
  m.writeInt32LE(-errno, 16);
  m.writeUInt32LE(16, 20);
  m.writeUInt32LE(seq, 28);
  tlv.copy(m, 36);
  return m;
}

const inside = insideRequests({ ifName: 'eth0', index: 2, ip: '10.45.0.7', prefixLen: 16, gateway: '10.45.0.1' });

describe('a netlink batch', () => {
  it('frames every request back to back with consecutive sequence numbers', () => {
    const { bytes, seqs } = frameBatch(inside, 41);
    expect(seqs).toEqual([41, 42, 43, 44]);
    const msgs = parseMessages(bytes);
    expect(msgs.map((m) => [m.type, m.seq])).toEqual([[RTM.NEWLINK, 41], [RTM.NEWADDR, 42], [RTM.NEWLINK, 43], [RTM.NEWROUTE, 44]]);
    expect(msgs.every((m) => (m.flags & NLM_F.ACK) !== 0)).toBe(true);
    expect(bytes.length).toBe(inside.reduce((n, r) => n + 16 + r.body.length, 0));
  });

  it('refuses a request that would never be acked, and a dump', () => {
    expect(() => frameBatch([getLink('eth0')], 1)).toThrow(/must ask for an ack/);
    expect(() => frameBatch([dumpLinks()], 1)).toThrow(/must ask for an ack/);
    expect(() => frameBatch([], 1)).toThrow(/empty/);
  });

  it('collects acks split over datagrams, ignores other sequence numbers, keeps the kernel words', () => {
    const c = new AckCollector([7, 8, 9]);
    c.add(parseMessages(Buffer.concat([ack(3), ack(7)])));
    expect(c.done).toBe(false);
    c.add(parseMessages(Buffer.concat([ack(9, 101, 'Nexthop has invalid gateway'), ack(8)])));
    expect(c.done).toBe(true);
    expect(c.outcomes()).toEqual([{ errno: 0 }, { errno: 0 }, { errno: 101, message: 'Nexthop has invalid gateway' }]);
  });

  it('names a request that got no ack instead of guessing', () => {
    const c = new AckCollector([1, 2]);
    c.add(parseMessages(ack(1)));
    expect(() => c.outcomes()).toThrow(/no ack for netlink request #2/);
  });
});

describe('RtnlClient.doAll', () => {
  /** A transport that answers a batch's acks in two datagrams, with the errno given per position. */
  function fake(errnos: number[], text?: string) {
    const sent: Buffer[] = [];
    let answers: Buffer[] = [];
    const t: NetlinkTransport = {
      send(b) {
        sent.push(b);
        const seqs = parseMessages(b).map((m) => m.seq);
        const acks = seqs.map((s, i) => ack(s, errnos[i] ?? 0, errnos[i] ? text : undefined));
        answers = [Buffer.concat([ack(seqs[0]! - 5), ...acks.slice(0, 1)]), Buffer.concat(acks.slice(1))];
      },
      recv: () => answers.shift()!,
      close() {},
    };
    return { t, sent };
  }

  it('sends the four in-namespace requests in one send and traces each with its outcome', () => {
    const { t, sent } = fake([0, 0, 0, 0]);
    const traced: { what: string; result: number; ns: string }[] = [];
    new RtnlClient(t, 'netns fd 9', (e) => traced.push({ what: e.what, result: e.result, ns: e.ns })).doAll(inside);
    expect(sent).toHaveLength(1);
    expect(traced.map((e) => e.what)).toEqual(['set lo up', 'add address 10.45.0.7/16 to eth0', 'set eth0 up', 'add default route via 10.45.0.1 dev eth0']);
    expect(traced.every((e) => e.result === 0)).toBe(true);
    expect(traced[1]!.ns).toBe('netns fd 9, 2 of 4 in one send');
  });

  it('throws the first failure as one line with the kernel words; every outcome is traced', () => {
    const { t } = fake([0, 17, 0, 101], 'Address already assigned');
    const traced: number[] = [];
    const c = new RtnlClient(t, 'netns fd 9', (e) => traced.push(e.result));
    let err: unknown;
    try {
      c.doAll(inside);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EEXIST');
    expect((err as Error).message).toBe('add address 10.45.0.7/16 to eth0: EEXIST (file exists): kernel says "Address already assigned"');
    expect(traced).toEqual([0, -17, 0, -101]);
  });

  it('keeps numbering after a batch, so a later single request matches its own answer', () => {
    const sent: Buffer[] = [];
    const queue: Buffer[] = [];
    const t: NetlinkTransport = {
      send(b) {
        sent.push(b);
        for (const m of parseMessages(b)) queue.push(ack(m.seq));
      },
      recv: () => queue.shift()!,
      close() {},
    };
    const c = new RtnlClient(t);
    c.doAll([setLinkUp(1, 'lo'), newAddr(2, '10.45.0.2', 16)]);
    c.do(newDefaultRoute('10.45.0.1', 2));
    const seqs = sent.flatMap((b) => parseMessages(b).map((m) => m.seq));
    expect(new Set(seqs).size).toBe(3);
    expect(seqs[2]).toBe(seqs[1]! + 1);
  });
});

describe('the in-namespace set-up', () => {
  it('orders lo, the address, eth0 up, then the route (which needs eth0 up with its address), all on the given index', () => {
    expect(inside.map((r) => r.what)).toEqual(['set lo up', 'add address 10.45.0.7/16 to eth0', 'set eth0 up', 'add default route via 10.45.0.1 dev eth0']);
    expect(inside[1]!.body.readUInt32LE(4)).toBe(2); // ifaddrmsg index
    expect(inside[2]!.body.readInt32LE(4)).toBe(2); // ifinfomsg index
    expect(inside[3]!.body.subarray(12).toString('hex')).toContain('0800' + '0400' + '02000000'); // RTA_OIF 2
  });
});
