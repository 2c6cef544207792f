/**
 * Test archives, byte by byte. tar-stream's packer cannot write everything the tests need
 * (binary PAX values for xattrs, bad checksums, negative sizes, GNU long names), so this
 * writes ustar/GNU/PAX headers directly. Only for tests.
 */
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  /** typeflag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, or any other byte. */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  data?: Buffer | string;
  /** Overrides the size field (lies about the data that follows). */
  size?: number;
  devmajor?: number;
  devminor?: number;
  /** PAX records written in an 'x' header before this entry. */
  pax?: Array<[string, Buffer | string]>;
  /** Write the name (and linkname) through GNU 'L'/'K' long-name headers. */
  gnuLongNames?: boolean;
  /** Corrupt the header checksum. */
  badChecksum?: boolean;
  /** Write the size field as base-256 negative. */
  negativeSize?: boolean;
  /** name and linkname are byte strings (one char per byte, latin1), for names that are not UTF-8. */
  byteNames?: boolean;
}

function nameBytes(e: TarEntry, s: string): Buffer {
  return Buffer.from(s, e.byteNames ? 'latin1' : 'utf8');
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'latin1');
}

export function tarHeader(e: TarEntry, dataLength: number): Buffer {
  const h = Buffer.alloc(512);
  nameBytes(e, e.name).copy(h, 0, 0, 100);
  octal(h, 100, 8, e.mode ?? 0o644);
  octal(h, 108, 8, e.uid ?? 0);
  octal(h, 116, 8, e.gid ?? 0);
  if (e.negativeSize) {
    h.fill(0xff, 124, 136); // a negative base-256 number
    h[135] = 0xfe;
  } else {
    octal(h, 124, 12, e.size ?? dataLength);
  }
  octal(h, 136, 12, e.mtime ?? 1_600_000_000);
  h.write(e.type ?? '0', 156, 1, 'latin1');
  if (e.linkname !== undefined) nameBytes(e, e.linkname).copy(h, 157, 0, 100);
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  octal(h, 329, 8, e.devmajor ?? 0);
  octal(h, 337, 8, e.devminor ?? 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  if (e.badChecksum) sum += 1;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

function padded(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

export function paxData(records: Array<[string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.concat([Buffer.from(String(len)), body]));
  }
  return Buffer.concat(parts);
}

export function tarEntry(e: TarEntry): Buffer {
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
  const out: Buffer[] = [];
  // Names that do not fit the header go into PAX records, as tar does.
  const records = [...(e.pax ?? [])];
  if (!e.gnuLongNames && nameBytes(e, e.name).length > 100 && !records.some(([k]) => k === 'path')) records.push(['path', nameBytes(e, e.name)]);
  if (!e.gnuLongNames && e.linkname !== undefined && nameBytes(e, e.linkname).length > 100) records.push(['linkpath', nameBytes(e, e.linkname)]);
  if (records.length > 0) {
    const pax = paxData(records);
    out.push(tarHeader({ name: 'PaxHeader', type: 'x' }, pax.length), padded(pax));
  }
  let name = e.name;
  let linkname = e.linkname;
  if (e.gnuLongNames) {
    const longName = nameBytes(e, e.name + '\0');
    out.push(tarHeader({ name: '././@LongLink', type: 'L' }, longName.length), padded(longName));
    name = e.name.slice(0, 99);
    if (e.linkname !== undefined) {
      const longLink = nameBytes(e, e.linkname + '\0');
      out.push(tarHeader({ name: '././@LongLink', type: 'K' }, longLink.length), padded(longLink));
      linkname = e.linkname.slice(0, 99);
    }
  }
  out.push(tarHeader({ ...e, name, ...(linkname === undefined ? {} : { linkname }) }, data.length), padded(data));
  return Buffer.concat(out);
}

/** A whole archive: entries and the two zero blocks that end it. */
export function tarArchive(entries: TarEntry[], opts: { gzip?: boolean; noEnd?: boolean } = {}): Buffer {
  const tar = Buffer.concat([...entries.map(tarEntry), opts.noEnd ? Buffer.alloc(0) : Buffer.alloc(1024)]);
  return opts.gzip ? gzipSync(tar) : tar;
}
