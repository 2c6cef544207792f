/**
 * A push parser for tar archives: fed chunks of any size, it calls its sink synchronously
 * with each member's header and slices of its data, straight out of the chunks given
 * (no copies, no stream objects: per-entry overhead is what made extraction slow). Pure.
 *
 * Extension headers are applied here: GNU 'L'/'K' long names, PAX 'x' records for the
 * next member and 'g' records for all later ones, kept as raw bytes (binary xattr values);
 * a PAX "size" record sets how much data follows. The archive ends at its first zero
 * block, as GNU tar stops there; bytes after it are ignored. An input that ends before
 * that marker, or inside a block, is truncated.
 *
 * The cost of each member stays bounded whatever came before it (so the whole parse is
 * linear): an extended header is at most MAX_EXTENDED_HEADER bytes and MAX_PAX_RECORDS
 * records, the global records that every later member inherits are at most
 * MAX_GLOBAL_PAX_RECORDS, and at most MAX_EXTENSIONS_IN_A_ROW extension headers precede
 * a member. Every header block and extended header is reported to the sink (metadata()),
 * which bounds their total like file content.
 */
import { PaxFormatError, parsePaxRecords, paxText, type PaxRecords } from './pax.js';
import { BLOCK, decodeHeader, isZeroBlock, padding, TarFormatError, type TarHeader } from './tar-header.js';

export interface TarSink {
  /** A member starts; `header.size` bytes of data follow through data(). */
  entry(header: TarHeader, pax: PaxRecords): void;
  /** The next bytes of the current member's data: a view into the input, valid only during the call. */
  data(bytes: Uint8Array): void;
  /** The current member's data is complete (called for every member, with or without data). */
  entryEnd(): void;
  /** Bytes of headers and extended headers just read (what an archive costs besides content). */
  metadata(bytes: number): void;
}

/** Extension headers beyond this are refused (a name or xattr set never needs that much). */
export const MAX_EXTENDED_HEADER = 4 * 1024 * 1024;
/** Records in one PAX header: a file's path, times, ids and xattrs are a few dozen. */
export const MAX_PAX_RECORDS = 10_000;
/**
 * Records in effect from global ('g') headers, which apply to every later member: real
 * ones carry a comment or an mtime. Thousands of them would be re-applied to each member.
 */
export const MAX_GLOBAL_PAX_RECORDS = 64;
/** Extension headers before one member ('g', 'x', 'L', 'K' each once or twice is plenty). */
export const MAX_EXTENSIONS_IN_A_ROW = 16;

const enum State {
  Header,
  Data,
  Extended,
  Padding,
  Ended,
}

const NO_RECORDS: PaxRecords = new Map();

export class TarReader {
  private state = State.Header;
  /** A header block split across chunks. */
  private readonly partial = new Uint8Array(BLOCK);
  private partialBytes = 0;
  /** Data bytes (or padding bytes) still expected for the current member. */
  private left = 0;
  private padLeft = 0;
  /** The current member's data size, for its padding. */
  private dataSize = 0;
  /** The extension header being collected. */
  private extended: { type: TarHeader['type']; buf: Uint8Array; filled: number } | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;
  private localPax: PaxRecords | null = null;
  private globalPax: PaxRecords = NO_RECORDS;
  private extensionsInARow = 0;

  constructor(private readonly sink: TarSink) {}

  /** True once the end-of-archive marker was seen. */
  get ended(): boolean {
    return this.state === State.Ended;
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      switch (this.state) {
        case State.Header: {
          if (this.partialBytes === 0 && len - pos >= BLOCK) {
            this.header(chunk, pos);
            pos += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.partialBytes, len - pos);
            this.partial.set(chunk.subarray(pos, pos + n), this.partialBytes);
            this.partialBytes += n;
            pos += n;
            if (this.partialBytes === BLOCK) {
              this.partialBytes = 0;
              this.header(this.partial, 0);
            }
          }
          break;
        }
        case State.Data: {
          const n = Math.min(this.left, len - pos);
          this.left -= n;
          this.sink.data(chunk.subarray(pos, pos + n));
          pos += n;
          if (this.left === 0) this.endMember();
          break;
        }
        case State.Extended: {
          const ext = this.extended!;
          const n = Math.min(ext.buf.length - ext.filled, len - pos);
          ext.buf.set(chunk.subarray(pos, pos + n), ext.filled);
          ext.filled += n;
          pos += n;
          if (ext.filled === ext.buf.length) this.applyExtended();
          break;
        }
        case State.Padding: {
          const n = Math.min(this.padLeft, len - pos);
          this.padLeft -= n;
          pos += n;
          if (this.padLeft === 0) this.state = State.Header;
          break;
        }
        case State.Ended:
          return;
      }
    }
  }

  /** The input is over: throws unless the archive ended properly. */
  end(): void {
    if (this.state === State.Ended) return;
    if (this.state === State.Header && this.partialBytes === 0 && this.extended === null && !this.pendingExtensions()) {
      throw new TarFormatError('truncated', 'no end-of-archive marker');
    }
    throw new TarFormatError('truncated', '');
  }

  private header(buf: Uint8Array, off: number): void {
    if (isZeroBlock(buf, off)) {
      if (this.pendingExtensions()) throw new TarFormatError('corrupt', 'an extended header is not followed by a member');
      this.state = State.Ended;
      return;
    }
    const header = decodeHeader(buf, off);
    this.sink.metadata(BLOCK);
    switch (header.type) {
      case 'pax-header':
      case 'pax-global-header':
      case 'gnu-long-name':
      case 'gnu-long-link':
        if (header.size > MAX_EXTENDED_HEADER) throw new TarFormatError('too-big', `an extended header is larger than ${MAX_EXTENDED_HEADER / 1024 / 1024} MiB`);
        if (++this.extensionsInARow > MAX_EXTENSIONS_IN_A_ROW) throw new TarFormatError('corrupt', `more than ${MAX_EXTENSIONS_IN_A_ROW} extended headers in a row`);
        this.sink.metadata(header.size);
        this.extended = { type: header.type, buf: new Uint8Array(header.size), filled: 0 };
        if (header.size === 0) this.applyExtended();
        else this.state = State.Extended;
        return;
    }
    this.extensionsInARow = 0;
    const pax = this.takePax();
    const size = paxSize(pax) ?? header.size;
    header.size = size;
    if (this.longName !== null) header.name = this.longName;
    if (this.longLink !== null) header.linkname = this.longLink;
    this.longName = null;
    this.longLink = null;
    // Pre-POSIX archives mark directories with a trailing slash on a regular file's name;
    // GNU tar honours it on the final name (after long names and PAX), and so do we.
    if (header.type === 'file' && effectiveName(header, pax).endsWith('/')) header.type = 'directory';
    // `size` bytes follow whatever the type: the sink skips what it does not keep, and
    // the planner refuses directories that claim data.
    this.left = size;
    this.dataSize = this.left;
    this.sink.entry(header, pax);
    if (this.left === 0) this.endMember();
    else this.state = State.Data;
  }

  private endMember(): void {
    this.sink.entryEnd();
    this.padLeft = padding(this.dataSize);
    this.state = this.padLeft === 0 ? State.Header : State.Padding;
  }

  private applyExtended(): void {
    const { type, buf } = this.extended!;
    this.extended = null;
    switch (type) {
      case 'pax-header':
        this.localPax = parsePaxRecords(buf, MAX_PAX_RECORDS);
        break;
      case 'pax-global-header': {
        const merged = new Map([...this.globalPax, ...parsePaxRecords(buf, MAX_GLOBAL_PAX_RECORDS)]);
        if (merged.size > MAX_GLOBAL_PAX_RECORDS) throw new PaxFormatError(`global headers set more than ${MAX_GLOBAL_PAX_RECORDS} records`);
        this.globalPax = merged;
        break;
      }
      case 'gnu-long-name':
        this.longName = cString(buf);
        break;
      case 'gnu-long-link':
        this.longLink = cString(buf);
        break;
    }
    this.padLeft = padding(buf.length);
    this.state = this.padLeft === 0 ? State.Header : State.Padding;
  }

  private pendingExtensions(): boolean {
    return this.localPax !== null || this.longName !== null || this.longLink !== null;
  }

  /** Global records overlaid with the member's own. */
  private takePax(): PaxRecords {
    const local = this.localPax;
    this.localPax = null;
    if (local === null) return this.globalPax;
    if (this.globalPax.size === 0) return local;
    return new Map([...this.globalPax, ...local]);
  }
}

/** A PAX "size": decides where the next header is, so it is checked here, strictly. */
function paxSize(pax: PaxRecords): number | undefined {
  if (pax.size === 0) return undefined;
  let text: string | undefined;
  try {
    text = paxText(pax, 'size');
  } catch {
    throw new TarFormatError('corrupt', 'a PAX size record contains a NUL byte');
  }
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(n)) throw new TarFormatError('corrupt', `a PAX size record is invalid (${JSON.stringify(text)})`);
  return n;
}

function effectiveName(header: TarHeader, pax: PaxRecords): string {
  try {
    return paxText(pax, 'path') ?? header.name;
  } catch {
    return header.name; // a NUL in the PAX path: the planner rejects it
  }
}

/** GNU long names end at their first NUL, as tar reads them; a byte string (see entry-path.ts). */
function cString(buf: Uint8Array): string {
  const nul = buf.indexOf(0);
  return Buffer.from(buf.buffer, buf.byteOffset, nul === -1 ? buf.length : nul).toString('latin1');
}
