/**
 * Giving back the pages an idle process only maps because it once ran them.
 *
 * A detached container's monitor is a Node process that sits idle in epoll_wait for the
 * container's whole life. Most of its resident set is the node binary's text and
 * read-only data (~35 of ~60 MB), faulted in during setup and never written. Such a page
 * is a copy of the file in the page cache: dropping it from our page tables
 * (MADV_DONTNEED) loses nothing, and touching it again is a minor fault from the cache.
 *
 * A written page of a private file mapping is no longer the file's: it is an anonymous
 * copy, and MADV_DONTNEED would silently revert it to the file's contents. So only whole
 * mappings that can prove they hold no such page are released: not writable (no other
 * thread can write one while we decide), Private_Dirty 0 and Anonymous 0 in
 * /proc/self/smaps. Anonymous memory (V8's heap, malloc) is never touched.
 */
import { readFileSync } from 'node:fs';
import { MADV, madvise } from '../sys/memory.js';

export interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  /** Fields in kB: Rss, Private_Dirty, Anonymous... */
  kb: Record<string, number>;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/;
const FIELD = /^(\w+):\s+(\d+) kB$/;

/** Parse the text of /proc/<pid>/smaps. */
export function parseSmaps(text: string): Mapping[] {
  const mappings: Mapping[] = [];
  let current: Mapping | null = null;
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      current = { start: parseInt(header[1]!, 16), end: parseInt(header[2]!, 16), perms: header[3]!, path: header[4]!.trim(), kb: {} };
      mappings.push(current);
      continue;
    }
    const field = FIELD.exec(line);
    if (field && current) current.kb[field[1]!] = Number(field[2]);
  }
  return mappings;
}

/** The mappings whose resident pages are all unmodified copies of a file. */
export function releasable(mappings: Mapping[]): Mapping[] {
  return mappings.filter(
    (m) =>
      m.path.startsWith('/') && // a file, not [heap], [stack], [vdso], [vvar] or anonymous memory
      !m.path.endsWith(' (deleted)') && // its file could not be read again
      m.perms[1] === '-' && // not writable: nothing can dirty it after we looked
      (m.kb.Rss ?? 0) > 0 &&
      m.kb.Private_Dirty === 0 &&
      m.kb.Shared_Dirty === 0 &&
      m.kb.Anonymous === 0 &&
      (m.kb.Locked ?? 0) === 0,
  );
}

/** Release this process's clean file-backed pages; returns how many kB were resident in them. */
export function releaseCleanFilePages(): number {
  let kb = 0;
  for (const m of releasable(parseSmaps(readFileSync('/proc/self/smaps', 'utf8')))) {
    madvise(m.start, m.end - m.start, MADV.DONTNEED);
    kb += m.kb.Rss ?? 0;
  }
  return kb;
}
