/**
 * Write tar archives: ustar headers, PAX records for what does not fit (long names,
 * big sizes or ids, xattrs). Used by `tsbox save` to turn a stored layer back into a layer
 * tar and to wrap the docker-archive. Output is deterministic for the same input.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export interface TarOut {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname?: string;
  xattrs?: Array<[string, Buffer]>;
}

const TYPEFLAG = { file: '0', link: '1', symlink: '2', directory: '5', fifo: '6' } as const;

function octal(buf: Buffer, offset: number, length: number, value: number): boolean {
  const text = value.toString(8);
  if (text.length > length - 1) return false;
  buf.write(text.padStart(length - 1, '0') + '\0', offset, length, 'latin1');
  return true;
}

function paxRecords(records: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.concat([Buffer.from(String(len)), body]));
  }
  return Buffer.concat(parts);
}

function header(name: string, type: string, e: Omit<TarOut, 'name' | 'type'>, pax: Array<[string, Buffer]>): Buffer {
  const h = Buffer.alloc(512);
  const nameBytes = Buffer.from(name);
  if (nameBytes.length > 100) pax.push(['path', nameBytes]);
  else nameBytes.copy(h, 0);
  octal(h, 100, 8, e.mode & 0o7777);
  if (!octal(h, 108, 8, e.uid)) (pax.push(['uid', Buffer.from(String(e.uid))]), octal(h, 108, 8, 0));
  if (!octal(h, 116, 8, e.gid)) (pax.push(['gid', Buffer.from(String(e.gid))]), octal(h, 116, 8, 0));
  if (!octal(h, 124, 12, e.size)) (pax.push(['size', Buffer.from(String(e.size))]), octal(h, 124, 12, 0));
  octal(h, 136, 12, Math.max(0, Math.floor(e.mtime)));
  h.write(type, 156, 1, 'latin1');
  if (e.linkname !== undefined) {
    const link = Buffer.from(e.linkname);
    if (link.length > 100) pax.push(['linkpath', link]);
    else link.copy(h, 157);
  }
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  octal(h, 329, 8, 0);
  octal(h, 337, 8, 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

/** A tar stream into a file descriptor, hashed as it is written. */
export class TarFileWriter {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly fd: number) {}

  private write(buf: Buffer): void {
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off);
    this.hash.update(buf);
    this.bytes += buf.length;
  }

  private pad(size: number): void {
    const rest = size % 512;
    if (rest !== 0) this.write(Buffer.alloc(512 - rest));
  }

  /** An entry; a file's data comes from `dataPath` (copied in 1 MiB reads) or `data`. */
  entry(e: TarOut, content?: { path?: string; data?: Buffer }): void {
    const pax: Array<[string, Buffer]> = [...(e.xattrs ?? []).map(([k, v]): [string, Buffer] => [`SCHILY.xattr.${k}`, v])];
    const h = header(e.name, TYPEFLAG[e.type], e, pax);
    if (pax.length > 0) {
      const body = paxRecords(pax);
      this.write(header('PaxHeader', 'x', { mode: 0o644, uid: 0, gid: 0, mtime: 0, size: body.length }, []));
      this.write(body);
      this.pad(body.length);
    }
    this.write(h);
    if (e.type !== 'file' || e.size === 0) return;
    if (content?.data !== undefined) this.write(content.data);
    else this.copyFile(content!.path!, e.size);
    this.pad(e.size);
  }

  private copyFile(path: string, size: number): void {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(1024 * 1024);
      let left = size;
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
        if (n === 0) throw new Error(`${path} shrank while being saved`);
        this.write(buf.subarray(0, n));
        left -= n;
      }
    } finally {
      closeSync(fd);
    }
  }

  end(): string {
    this.write(Buffer.alloc(1024));
    return `sha256:${this.hash.digest('hex')}`;
  }
}
