/**
 * The per-network name responder (design in docs/networking.md): UDP port 53 on the network's
 * gateway address, answering container names from the network's leases and relaying every
 * other query to the host's upstream resolvers. The decisions are pure (message.ts); this file
 * only moves datagrams. Meant to run in a long-lived tsbox process (the monitor) of the
 * network's first container; Node's dgram and net sockets, no FFI. UDP and TCP on one port.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { readLeases, type NetPaths } from '../ipam/store.js';
import { decide } from './message.js';

export interface NameServerOptions {
  address: string;
  port?: number;
  /** Names are answered bare and under this domain (e.g. "mynet.tsbox"). */
  domain: string;
  /** Current names on the network; called per query so a new container is known at once. */
  names: () => Map<string, string[]>;
  /** Upstream resolvers (not loopback: they are reached from the host). */
  upstream: string[];
  /** How long a relayed query waits for its upstream answer before it is forgotten. */
  timeoutMs?: number;
}

export interface NameServer {
  port: number;
  close(): Promise<void>;
}

/** The network's names, from its lease files: each lease's names map to its address. */
export function namesFromLeases(paths: NetPaths, network: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of readLeases(paths, network)) {
    for (const n of l.names ?? []) out.set(n.toLowerCase(), [...(out.get(n.toLowerCase()) ?? []), l.ip]);
  }
  return out;
}

function bind(sock: UdpSocket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port, address, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
}

export async function startNameServer(o: NameServerOptions): Promise<NameServer> {
  const server = createSocket('udp4');
  const relay = createSocket('udp4');
  // Relayed queries get an id of ours (two clients may pick the same id); the answer is
  // matched back by it and given the client's id again.
  const pending = new Map<number, { rinfo: RemoteInfo; id: number; timer: NodeJS.Timeout }>();
  let nextId = Math.floor(Math.random() * 0xffff);

  server.on('message', (msg, rinfo) => {
    const d = decide(msg, o.names(), o.domain);
    if (d.kind === 'answer') {
      server.send(d.bytes, rinfo.port, rinfo.address);
      return;
    }
    if (msg.length < 12 || o.upstream.length === 0 || pending.size > 4096) return;
    nextId = (nextId + 1) & 0xffff;
    const id = nextId;
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    const timer = setTimeout(() => pending.delete(id), o.timeoutMs ?? 5000);
    timer.unref();
    pending.set(id, { rinfo, id: msg.readUInt16BE(0), timer });
    relay.send(out, 53, o.upstream[0]!);
  });

  relay.on('message', (msg, rinfo) => {
    if (msg.length < 12 || !o.upstream.includes(rinfo.address)) return;
    const p = pending.get(msg.readUInt16BE(0));
    if (!p) return;
    pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    const back = Buffer.from(msg);
    back.writeUInt16BE(p.id, 0);
    server.send(back, p.rinfo.port, p.rinfo.address);
  });
  // A bad datagram must not end the monitor.
  server.on('error', () => {});
  relay.on('error', () => {});

  await bind(server, o.port ?? 53, o.address);
  await bind(relay, 0, '0.0.0.0');
  const port = server.address().port;
  // TCP on the same port: a client whose UDP answer came back truncated (TC) asks again over TCP.
  const tcp = createServer((conn) => serveTcp(conn, o));
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ port, host: o.address, exclusive: true }, () => resolve());
  });
  tcp.on('error', () => {});
  return {
    port,
    close: async () => {
      for (const p of pending.values()) clearTimeout(p.timer);
      await Promise.all([
        new Promise<void>((r) => server.close(() => r())),
        new Promise<void>((r) => relay.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

/** Messages over TCP carry a 2-byte length first (RFC 1035 4.2.2). */
function frameTcp(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

function serveTcp(conn: Socket, o: NameServerOptions): void {
  let buf = Buffer.alloc(0);
  conn.setTimeout(o.timeoutMs ?? 5000, () => conn.destroy());
  conn.on('error', () => conn.destroy());
  conn.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      const d2 = decide(msg, o.names(), o.domain);
      if (d2.kind === 'answer') conn.write(frameTcp(d2.bytes));
      else relayTcp(msg, o, (answer) => conn.write(frameTcp(answer)));
    }
  });
}

/** One query to the first upstream over TCP; its answer (or nothing, on failure) goes back. */
function relayTcp(msg: Buffer, o: NameServerOptions, answer: (b: Buffer) => void): void {
  if (o.upstream.length === 0) return;
  const up = connect({ host: o.upstream[0]!, port: 53 });
  let got = Buffer.alloc(0);
  up.setTimeout(o.timeoutMs ?? 5000, () => up.destroy());
  up.on('error', () => up.destroy());
  up.on('connect', () => up.write(frameTcp(msg)));
  up.on('data', (d: Buffer) => {
    got = Buffer.concat([got, d]);
    if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
      answer(got.subarray(2, 2 + got.readUInt16BE(0)));
      up.end();
    }
  });
}
