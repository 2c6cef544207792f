/**
 * One archive member, checked and turned into what the extractor must create. Pure: every
 * decision about a header (is it valid, what type, which owner, mode, times, xattrs) is
 * made here and unit-tested; the extractor only executes the plan.
 */
import { normalizeEntryName, UnsafeNameError, type EntryPath } from './entry-path.js';
import { paxText, PaxFormatError, type PaxRecords } from './pax.js';
import type { Timespec } from '../sys/fs.js';
import type { TarHeader } from './tar-header.js';

/** A parsed tar header (tar-header.ts), long names applied; the raw typeflag byte is only for the reader's messages. */
export type RawHeader = Omit<TarHeader, 'typeflag'>;

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

export interface EntryPlan {
  /** The member name as written in the archive, a byte string (entry-path.ts), for messages. */
  name: string;
  path: EntryPath;
  kind: EntryKind;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow the header (only files have content we keep). */
  size: number;
  mtime: Timespec;
  /** From PAX atime when present; otherwise the extractor sets "now", as tar does. */
  atime: Timespec | null;
  /** Symlink target, kept exactly as written: a byte string. */
  symlinkTarget: string | null;
  /** Hard link target: a member name, normalised like any name. */
  linkTarget: EntryPath | null;
  major: number;
  minor: number;
  /** Extended attributes from SCHILY.xattr.* records, in archive order. */
  xattrs: Array<[string, Buffer]>;
}

export class BadEntryError extends Error {}

const kinds: Partial<Record<NonNullable<RawHeader['type']>, EntryKind>> = {
  file: 'file',
  'contiguous-file': 'file', // typeflag 7: a regular file on every system that matters
  directory: 'directory',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char-device',
  'block-device': 'block-device',
  fifo: 'fifo',
};

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to chown, never a real owner
const PATH_MAX = 4096;
const XATTR_NAMESPACES = ['security.', 'trusted.', 'user.', 'system.'];
const XATTR_PREFIX = 'SCHILY.xattr.';

export function planEntry(header: RawHeader, pax: PaxRecords): EntryPlan {
  try {
    return plan(header, pax);
  } catch (err) {
    if (err instanceof UnsafeNameError || err instanceof PaxFormatError) throw new BadEntryError(err.message);
    throw err;
  }
}

function plan(header: RawHeader, pax: PaxRecords): EntryPlan {
  const kind = header.type === null ? undefined : kinds[header.type];
  if (kind === undefined) throw new BadEntryError(`unsupported entry type ${header.type === null ? '(unknown typeflag)' : header.type}`);
  for (const key of pax.keys()) if (key.startsWith('GNU.sparse.')) throw new BadEntryError('sparse files are not supported');

  const name = paxText(pax, 'path') ?? header.name;
  const path = normalizeEntryName(name);
  const size = paxInteger(pax, 'size', 0, Number.MAX_SAFE_INTEGER) ?? header.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new BadEntryError(`invalid size ${size}`);
  if (kind === 'directory' && size > 0) throw new BadEntryError('directory entry carries data');
  if (!Number.isInteger(header.mode) || header.mode < 0) throw new BadEntryError(`invalid mode ${header.mode}`);
  const uid = paxInteger(pax, 'uid', 0, MAX_ID) ?? checkId(header.uid, 'uid');
  const gid = paxInteger(pax, 'gid', 0, MAX_ID) ?? checkId(header.gid, 'gid');
  const mtime = paxTime(pax, 'mtime') ?? secondsToTimespec(header.mtime);
  const atime = paxTime(pax, 'atime') ?? null;

  const linkname = paxText(pax, 'linkpath') ?? header.linkname ?? '';
  let symlinkTarget: string | null = null;
  let linkTarget: EntryPath | null = null;
  if (kind === 'symlink') {
    if (linkname === '') throw new BadEntryError('symlink without a target');
    if (linkname.includes('\0')) throw new BadEntryError('symlink target contains a NUL byte');
    if (linkname.length >= PATH_MAX) throw new BadEntryError('symlink target is too long'); // bytes: a byte string
    symlinkTarget = linkname;
  } else if (kind === 'hardlink') {
    try {
      linkTarget = normalizeEntryName(linkname);
    } catch (err) {
      throw new BadEntryError(`hard link target: ${(err as Error).message}`);
    }
    if (linkTarget.length === 0) throw new BadEntryError('hard link to the root directory');
  }
  if (path.length === 0 && kind !== 'directory') throw new BadEntryError(`a ${kind} entry would replace the root directory`);

  let major = 0;
  let minor = 0;
  if (kind === 'char-device' || kind === 'block-device') {
    major = checkDevice(header.devmajor, 'major');
    minor = checkDevice(header.devminor, 'minor');
  }

  return {
    name,
    path,
    kind,
    mode: header.mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    atime,
    symlinkTarget,
    linkTarget,
    major,
    minor,
    xattrs: xattrsOf(pax),
  };
}

function checkId(id: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new BadEntryError(`invalid ${what} ${id}`);
  return id;
}

function checkDevice(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new BadEntryError(`invalid device ${what} ${n}`);
  return n;
}

function paxInteger(pax: PaxRecords, key: string, min: number, max: number): number | undefined {
  const text = paxText(pax, key);
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,16}$/.test(text)) throw new BadEntryError(`invalid PAX ${key} ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max || !Number.isSafeInteger(n)) throw new BadEntryError(`PAX ${key} ${text} out of range`);
  return n;
}

/** PAX times are decimal seconds with an optional fraction: "1700000000.123456789", "-1.5". */
export function parsePaxTime(text: string): Timespec | null {
  const m = /^(-?)([0-9]{1,15})(?:\.([0-9]{1,30}))?$/.exec(text);
  if (!m) return null;
  const negative = m[1] === '-';
  const whole = Number(m[2]);
  const nsec = Number((m[3] ?? '').slice(0, 9).padEnd(9, '0'));
  if (!negative || nsec === 0) return { sec: negative ? -whole : whole, nsec };
  // -1.5 s is 2 s before the epoch plus 0.5 s: timespec nanoseconds are never negative.
  return { sec: -whole - 1, nsec: 1_000_000_000 - nsec };
}

function paxTime(pax: PaxRecords, key: string): Timespec | undefined {
  const text = paxText(pax, key);
  if (text === undefined) return undefined;
  const t = parsePaxTime(text);
  if (t === null) throw new BadEntryError(`invalid PAX ${key} ${JSON.stringify(text)}`);
  return t;
}

function secondsToTimespec(sec: number): Timespec {
  if (!Number.isSafeInteger(sec)) throw new BadEntryError('invalid mtime');
  return { sec, nsec: 0 };
}

function xattrsOf(pax: PaxRecords): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const [key, value] of pax) {
    if (!key.startsWith(XATTR_PREFIX)) continue;
    const attr = key.slice(XATTR_PREFIX.length);
    if (!XATTR_NAMESPACES.some((ns) => attr.startsWith(ns) && attr.length > ns.length) || Buffer.byteLength(attr) > 255) {
      throw new BadEntryError(`invalid xattr name ${JSON.stringify(attr)}`);
    }
    if (value.length > 65536) throw new BadEntryError(`xattr ${attr} value is larger than 64 KiB`);
    out.push([attr, value]);
  }
  return out;
}
