import { describe, expect, it } from 'vitest';
import { NLMSG, NLM_F, RTM } from '../../src/sys/netlink-constants.js';
import { NetlinkError } from '../../src/network/rtnetlink/errors.js';
import { delLink, frame, newAddr, newBridge, newDefaultRoute, newVeth, setHairpin, setLinkUp } from '../../src/network/rtnetlink/messages.js';
import { parseError, parseLink, parseMessages, parseRoute } from '../../src/network/rtnetlink/parse.js';
import { parseAttrs } from '../../src/network/rtnetlink/attrs.js';

const hex = (b: Buffer) => b.toString('hex');

describe('rtnetlink request bytes', () => {
  it('frames a bridge creation exactly as the kernel reads it', () => {
    const bytes = frame(newBridge('br0', '02:00:0a:2d:00:01'), 7);
    expect(hex(bytes)).toBe(
      '44000000' + '1000' + '0506' + '07000000' + '00000000' + // nlmsghdr: len 68, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 7
      '00000000' + '00000000' + '01000000' + '01000000' + // ifinfomsg: AF_UNSPEC, index 0, flags IFF_UP, change IFF_UP
      '0800' + '0300' + '62723000' + // IFLA_IFNAME "br0\0"
      '0a00' + '0100' + '02000a2d0001' + '0000' + // IFLA_ADDRESS, padded
      '1000' + '1280' + '0b00' + '0100' + '62726964676500' + '00', // IFLA_LINKINFO|NESTED { IFLA_INFO_KIND "bridge\0" }
    );
  });

  it('puts the veth peer, with its namespace fd, inside VETH_INFO_PEER as an ifinfomsg plus attributes', () => {
    const req = newVeth({ hostName: 'tsbaaaa', masterIndex: 5, peerName: 'eth0', peerNetnsFd: 9, peerMac: '02:42:0a:2d:00:02' });
    const attrs = parseAttrs(req.body.subarray(16));
    expect(attrs.map((a) => a.type)).toEqual([3, 10, 18]);
    expect(attrs[1]!.data.readUInt32LE(0)).toBe(5);
    const info = parseAttrs(attrs[2]!.data);
    expect(info[0]!.data.toString()).toBe('veth\0');
    const peer = parseAttrs(info[1]!.data)[0]!;
    expect(peer.type).toBe(1);
    const peerAttrs = parseAttrs(peer.data.subarray(16));
    expect(peerAttrs.map((a) => [a.type, hex(a.data)])).toEqual([[3, hex(Buffer.from('eth0\0'))], [28, '09000000'], [1, '02420a2d0002']]);
    expect(req.what).toContain('peer eth0 (mac 02:42:0a:2d:00:02) inside netns fd 9');
  });

  it('builds hairpin as the bridge family setlink with a nested IFLA_PROTINFO', () => {
    const req = setHairpin(6, true);
    expect(req.type).toBe(RTM.SETLINK);
    expect(hex(req.body)).toBe('07000000' + '06000000' + '00000000' + '00000000' + '0c00' + '0c80' + '0500' + '0400' + '01000000');
  });

  it('builds address, link up, default route and delete', () => {
    expect(hex(newAddr(3, '10.45.0.2', 16).body)).toBe('02100000' + '03000000' + '0800' + '0200' + '0a2d0002' + '0800' + '0100' + '0a2d0002');
    expect(hex(setLinkUp(1).body)).toBe('00000000' + '01000000' + '01000000' + '01000000');
    expect(hex(newDefaultRoute('10.45.0.1', 3).body)).toBe('02000000' + 'fe030001' + '00000000' + '0800' + '0500' + '0a2d0001' + '0800' + '0400' + '03000000');
    expect(hex(delLink({ name: 'x' }).body)).toBe('00000000' + '00000000' + '00000000' + '00000000' + '0600' + '0300' + '7800' + '0000');
  });
});

describe('rtnetlink answers', () => {
  it('turns an extended ack into one line naming what failed', () => {
    const msg = Buffer.alloc(16 + 4 + 16 + 28);
    msg.writeUInt32LE(msg.length, 0);
    msg.writeUInt16LE(NLMSG.ERROR, 4);
    msg.writeUInt16LE(NLM_F.CAPPED | NLM_F.ACK_TLVS, 6);
    msg.writeUInt32LE(3, 8);
    msg.writeInt32LE(-22, 16);
    msg.writeUInt32LE(40, 20); // the request's own header (capped)
    const text = Buffer.from('ipv4: Invalid prefix length\0');
    msg.writeUInt16LE(4 + text.length, 36);
    msg.writeUInt16LE(1, 38);
    text.copy(msg, 40, 0, 24);
    const [m] = parseMessages(Buffer.concat([msg, Buffer.alloc(4)]));
    const err = parseError(m!);
    expect(err.errno).toBe(22);
    const e = new NetlinkError('add address 10.45.0.1/33 to br0', { errno: 22, message: 'ipv4: Invalid prefix length' });
    expect(e.message).toBe('add address 10.45.0.1/33 to br0: EINVAL (invalid argument): kernel says "ipv4: Invalid prefix length"');
  });

  it('reads a link with its byte counters and a route', () => {
    const stats = Buffer.alloc(32);
    stats.writeBigUInt64LE(1234n, 16);
    stats.writeBigUInt64LE(99n, 24);
    const body = Buffer.concat([
      Buffer.from('0000000004000000' + '01000000' + '00000000', 'hex'),
      Buffer.from('0900' + '0300' + '6574683000' + '000000', 'hex'),
      Buffer.from('2400' + '1700', 'hex'), stats,
    ]);
    expect(parseLink(body)).toMatchObject({ index: 4, name: 'eth0', rxBytes: 1234n, txBytes: 99n });
    const route = Buffer.from('02180000' + 'fe020001' + '00000000' + '0800' + '0100' + '0a2d0000' + '0800' + '0400' + '05000000', 'hex');
    expect(parseRoute(route)).toEqual({ dst: '10.45.0.0', dstLen: 24, table: 254, type: 1, oif: 5 });
  });
});

describe('ctnetlink', () => {
  it('reads an entry and deletes it by its original tuple, byte for byte', async () => {
    const { parseConntrack, deleteConntrack, involves, dumpConntrack } = await import('../../src/network/conntrack/messages.js');
    const { encodeAttrs, nest, bytes, u8 } = await import('../../src/network/rtnetlink/attrs.js');
    const port = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n, 0); return b; };
    const tuple = (src: number[], dst: number[], sp: number, dp: number) => [
      nest(1, [bytes(1, Buffer.from(src)), bytes(2, Buffer.from(dst))]),
      nest(2, [u8(1, 17), bytes(2, port(sp)), bytes(3, port(dp))]),
    ];
    const payload = Buffer.concat([Buffer.from([2, 0, 0, 0]), encodeAttrs([
      nest(1, tuple([10, 45, 0, 3], [10, 45, 0, 1], 40000, 53)),
      nest(2, tuple([10, 45, 0, 1], [10, 45, 0, 3], 53, 40000)),
    ])]);
    const e = parseConntrack(payload)!;
    expect(e.orig).toEqual({ src: '10.45.0.3', dst: '10.45.0.1', proto: 17, sport: 40000, dport: 53 });
    expect(involves(e, '10.45.0.3')).toBe(true);
    expect(involves(e, '10.45.0.4')).toBe(false);
    const del = deleteConntrack(e);
    expect(del.type).toBe(0x102);
    expect(del.body.subarray(0, 8).toString('hex')).toBe('02000000' + (4 + e.origRaw.length).toString(16).padStart(2, '0') + '00' + '0180');
    expect(del.body.subarray(8)).toEqual(e.origRaw);
    expect(del.what).toBe('delete conntrack entry proto 17 10.45.0.3:40000 -> 10.45.0.1:53');
    expect(dumpConntrack().type).toBe(0x101);
  });
});
