/**
 * Several rtnetlink requests in one datagram (one send), their acks read back by sequence
 * number. The kernel handles the messages of a datagram one after the other and acks each
 * one that asked for it (NLM_F_ACK), whether or not an earlier one failed: so one round trip
 * replaces one per request, and every outcome is still known. Pure: bytes in, outcomes out.
 */
import { NLMSG, NLM_F } from '../../sys/netlink-constants.js';
import { frame, type Request } from './messages.js';
import { type NlError, type NlMessage, parseError } from './parse.js';

export interface FramedBatch {
  bytes: Buffer;
  /** The sequence number of each request, in order. */
  seqs: number[];
}

/**
 * The requests framed back to back, numbered from `firstSeq`. Each must ask for an ack: an
 * action without one has no answer at all, so the batch could not tell when it is done.
 */
export function frameBatch(reqs: readonly Request[], firstSeq: number): FramedBatch {
  if (reqs.length === 0) throw new Error('an empty netlink batch');
  const seqs: number[] = [];
  const frames = reqs.map((r, i) => {
    if (!(r.flags & NLM_F.ACK) || (r.flags & NLM_F.DUMP) === NLM_F.DUMP) throw new Error(`${r.what}: a batched request must ask for an ack and not be a dump`);
    const seq = (firstSeq + i) >>> 0;
    seqs.push(seq);
    return frame(r, seq);
  });
  return { bytes: Buffer.concat(frames), seqs };
}

/**
 * Collects the acks of one batch from whatever datagrams the kernel answers with (it may
 * split them). Messages of other sequence numbers (a late answer to an earlier request) are
 * ignored; an answer that is not an ack (a request echoing its object) is skipped.
 */
export class AckCollector {
  private readonly results = new Map<number, NlError>();

  constructor(private readonly seqs: readonly number[]) {}

  add(messages: readonly NlMessage[]): void {
    for (const m of messages) {
      if (m.type !== NLMSG.ERROR || !this.seqs.includes(m.seq) || this.results.has(m.seq)) continue;
      this.results.set(m.seq, parseError(m));
    }
  }

  get done(): boolean {
    return this.results.size === this.seqs.length;
  }

  /** Per request, in order: errno 0 for success, else the kernel's error and its words. */
  outcomes(): NlError[] {
    return this.seqs.map((s) => {
      const r = this.results.get(s);
      if (!r) throw new Error(`no ack for netlink request #${s}`);
      return r;
    });
  }
}
