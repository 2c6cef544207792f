/**
 * The member table of a tar file, read from its headers only: docker-archive puts
 * manifest.json LAST, so the archive is indexed first (one header read per member, data
 * skipped by seeking) and then its pieces are read where they lie. No data is copied.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { normalizeEntryName } from '../entry-path.js';
import { parsePaxRecords, paxText } from '../pax.js';
import { BLOCK, decodeHeader, isZeroBlock, padding, TarFormatError } from '../tar-header.js';

export interface TarMember {
  /** Normalised name ("a/b", no "./" or leading "/"). */
  name: string;
  type: 'file' | 'symlink' | 'link' | 'directory' | 'other';
  offset: number;
  size: number;
  linkname: string | null;
}

/** Image archives have a few hundred members; a table bigger than this is not one. */
const MAX_MEMBERS = 100_000;
const MAX_EXTENDED = 1024 * 1024;

export function indexTar(path: string): Map<string, TarMember> {
  const fd = openSync(path, 'r');
  try {
    const members = new Map<string, TarMember>();
    const block = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | null = null;
    let longLink: string | null = null;
    let pax: Map<string, Buffer> | null = null;
    for (;;) {
      if (readSync(fd, block, 0, BLOCK, pos) !== BLOCK) throw new TarFormatError('truncated', 'no end-of-archive marker');
      if (isZeroBlock(block, 0)) return members;
      const h = decodeHeader(block, 0);
      const dataAt = pos + BLOCK;
      pos = dataAt + h.size + padding(h.size);
      if (h.type === 'pax-header' || h.type === 'gnu-long-name' || h.type === 'gnu-long-link') {
        if (h.size > MAX_EXTENDED) throw new TarFormatError('too-big', 'an extended header is too large');
        const buf = Buffer.alloc(h.size);
        if (readSync(fd, buf, 0, h.size, dataAt) !== h.size) throw new TarFormatError('truncated', '');
        if (h.type === 'pax-header') pax = parsePaxRecords(buf);
        else {
          const nul = buf.indexOf(0);
          const text = buf.toString('utf8', 0, nul === -1 ? buf.length : nul);
          if (h.type === 'gnu-long-name') longName = text;
          else longLink = text;
        }
        continue;
      }
      if (h.type === 'pax-global-header') continue;
      const rawName = (pax !== null ? paxText(pax, 'path') : undefined) ?? longName ?? h.name;
      const linkname = (pax !== null ? paxText(pax, 'linkpath') : undefined) ?? longLink ?? h.linkname;
      const paxSize = pax !== null ? paxText(pax, 'size') : undefined;
      if (paxSize !== undefined) {
        const n = Number(paxSize);
        if (!/^[0-9]{1,16}$/.test(paxSize) || !Number.isSafeInteger(n)) throw new TarFormatError('corrupt', 'invalid PAX size');
        pos = dataAt + n + padding(n);
        h.size = n;
      }
      pax = null;
      longName = null;
      longLink = null;
      const name = normalizeEntryName(rawName).join('/');
      const type = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'symlink' || h.type === 'link' || h.type === 'directory' ? h.type : 'other';
      members.set(name, { name, type, offset: dataAt, size: h.size, linkname });
      if (members.size > MAX_MEMBERS) throw new TarFormatError('too-big', `more than ${MAX_MEMBERS} members`);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The regular member `name` refers to, following symlinks and hard links between members
 * (docker-archive's <id>/layer.tar are symlinks to ../<diffid>.tar). Resolved inside the
 * archive: a link out of it, or a chain longer than 8, is not found.
 */
export function resolveMember(members: Map<string, TarMember>, name: string): TarMember | null {
  let current = name;
  for (let hops = 0; hops < 8; hops++) {
    let m: TarMember | undefined;
    try {
      m = members.get(normalizeEntryName(current).join('/'));
    } catch {
      return null;
    }
    if (m === undefined) return null;
    if (m.type === 'file') return m;
    if (m.linkname === null) return null;
    if (m.type === 'link') {
      current = m.linkname;
      continue;
    }
    if (m.type !== 'symlink' || m.linkname.startsWith('/')) return null;
    const parts = m.name.split('/').slice(0, -1);
    for (const part of m.linkname.split('/')) {
      if (part === '..') {
        if (parts.length === 0) return null;
        parts.pop();
      } else if (part !== '' && part !== '.') parts.push(part);
    }
    current = parts.join('/');
  }
  return null;
}

export function readMemberStream(path: string, m: TarMember): AsyncIterable<Buffer> {
  if (m.size === 0) return (async function* () {})();
  return createReadStream(path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024 });
}

export function readMember(path: string, m: TarMember, max: number): Buffer {
  if (m.size > max) throw new TarFormatError('too-big', `${m.name} is larger than ${max} bytes`);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(m.size);
    if (readSync(fd, buf, 0, m.size, m.offset) !== m.size) throw new TarFormatError('truncated', m.name);
    return buf;
  } finally {
    closeSync(fd);
  }
}
