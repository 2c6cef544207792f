/**
 * Sends rtnetlink requests over one socket and waits for their answers. The socket is passed
 * in (src/sys/netlink.ts in production), so this file does no FFI itself. Every request goes
 * through `trace` first: --debug shows each message with what it does.
 */
import { NLMSG, NLM_F } from '../../sys/netlink-constants.js';
import { AckCollector, frameBatch } from './batch.js';
import { NetlinkError } from './errors.js';
import { frame, type Request } from './messages.js';
import { type NlError, type NlMessage, parseError, parseMessages } from './parse.js';

export interface NetlinkTransport {
  send(msg: Buffer): void;
  recv(): Buffer;
  close(): void;
}

/** Called for every request: what it does, its bytes, and the outcome (0 or -errno). */
export type NetlinkTrace = (event: { what: string; bytes: Buffer; result: number; ns: string }) => void;

export class RtnlClient {
  private seq = Math.floor(Date.now() / 1000) & 0xffff;

  /** `ns` names the namespace in traces ("host", "netns fd 7"). */
  constructor(private readonly sock: NetlinkTransport, private readonly ns = 'host', private readonly trace?: NetlinkTrace) {}

  /** A request whose answer is an ack; throws NetlinkError when the kernel refuses. */
  do(req: Request): void {
    this.exchange(req);
  }

  /** Like `do`, but an errno in `tolerate` (e.g. ENODEV on a delete) is returned instead of thrown. */
  tryDo(req: Request, tolerate: string[]): string | null {
    try {
      this.exchange(req);
      return null;
    } catch (err) {
      if (err instanceof NetlinkError && tolerate.includes(err.code)) return err.code;
      throw err;
    }
  }

  /** A request answered by one message (a GETLINK by name). */
  get(req: Request): NlMessage {
    const got = this.exchange(req);
    if (got.length === 0) throw new Error(`${req.what}: no answer from the kernel`);
    return got[0]!;
  }

  /** A dump: every message until NLMSG_DONE. */
  dump(req: Request): NlMessage[] {
    return this.exchange(req);
  }

  /**
   * Requests that each answer with an ack, sent in one datagram (batch.ts): one round trip
   * instead of one per request. Every request is traced with its own outcome; the first
   * failure is thrown, after all outcomes are in (the kernel carries on past a failed one).
   */
  doAll(reqs: readonly Request[]): void {
    const out = this.batch(reqs);
    const failed = out.findIndex((e) => e.errno !== 0);
    if (failed >= 0) throw new NetlinkError(reqs[failed]!.what, out[failed]!);
  }

  /** Like doAll, but returns each request's outcome (errno 0: done) instead of throwing. */
  batch(reqs: readonly Request[]): NlError[] {
    const { bytes, seqs } = frameBatch(reqs, this.seq + 1);
    this.seq = seqs[seqs.length - 1]!;
    this.sock.send(bytes);
    const acks = new AckCollector(seqs);
    while (!acks.done) acks.add(parseMessages(this.sock.recv()));
    const out = acks.outcomes();
    if (this.trace) {
      let off = 0;
      for (const [i, r] of reqs.entries()) {
        const len = bytes.readUInt32LE(off);
        this.trace({ what: r.what, bytes: bytes.subarray(off, off + len), result: out[i]!.errno === 0 ? 0 : -out[i]!.errno, ns: reqs.length > 1 ? `${this.ns}, ${i + 1} of ${reqs.length} in one send` : this.ns });
        off += (len + 3) & ~3;
      }
    }
    return out;
  }

  close(): void {
    this.sock.close();
  }

  private exchange(req: Request): NlMessage[] {
    const seq = ++this.seq;
    const bytes = frame(req, seq);
    this.sock.send(bytes);
    const out: NlMessage[] = [];
    const isDump = (req.flags & NLM_F.DUMP) === NLM_F.DUMP;
    for (;;) {
      for (const m of parseMessages(this.sock.recv())) {
        if (m.seq !== seq) continue; // a late answer to an earlier request
        if (m.type === NLMSG.ERROR) {
          const err = parseError(m);
          this.trace?.({ what: req.what, bytes, result: -err.errno, ns: this.ns });
          if (err.errno !== 0) throw new NetlinkError(req.what, err);
          return out;
        }
        if (m.type === NLMSG.DONE) {
          this.trace?.({ what: req.what, bytes, result: out.length, ns: this.ns });
          return out;
        }
        out.push(m);
        if (!isDump && !(req.flags & NLM_F.ACK)) {
          this.trace?.({ what: req.what, bytes, result: 0, ns: this.ns });
          return out;
        }
      }
    }
  }
}
