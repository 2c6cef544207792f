import { describe, expect, it } from 'vitest';
import { parseSmaps, releasable } from '../../src/runtime/release-pages.js';

function mapping(header: string, kb: Record<string, number>): string {
  const fields = { Size: 64, Rss: 0, Pss: 0, Shared_Clean: 0, Shared_Dirty: 0, Private_Clean: 0, Private_Dirty: 0, Anonymous: 0, Locked: 0, ...kb };
  return [header, ...Object.entries(fields).map(([k, v]) => `${k}:${' '.repeat(Math.max(1, 16 - k.length))}${v} kB`), 'VmFlags: rd ex mr mw me'].join('\n');
}

const smaps = [
  mapping('00400000-00b6f000 r--p 00000000 fe:00 260689                             /usr/bin/node', { Rss: 6704, Shared_Clean: 6704 }),
  mapping('00b72000-025fe000 r-xp 00772000 fe:00 260689                             /usr/bin/node', { Rss: 20448, Private_Clean: 20448 }),
  mapping('02601000-0563a000 r--p 02201000 fe:00 260689                             /usr/bin/node', { Rss: 1200, Private_Dirty: 8, Anonymous: 8 }),
  mapping('0563a000-0564a000 rw-p 0523a000 fe:00 260689                             /usr/bin/node', { Rss: 60 }),
  mapping('06b30000-06d4f000 rw-p 00000000 00:00 0                                  [heap]', { Rss: 1980, Private_Dirty: 1980, Anonymous: 1980 }),
  mapping('7f90dcb05000-7f90dcc06000 rw-p 00000000 00:00 0 ', { Rss: 1028, Private_Dirty: 1028, Anonymous: 1028 }),
  mapping('7f9105a44000-7f9105b9a000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6', { Rss: 1112, Shared_Clean: 1112 }),
  mapping('7f9105c00000-7f9105c99000 r--p 00000000 fe:00 339903                     /tmp/old.so (deleted)', { Rss: 100, Shared_Clean: 100 }),
  mapping('7f9105d00000-7f9105d10000 r-xp 00000000 fe:00 339904                     /tmp/never-touched.so', { Rss: 0 }),
  mapping('7f9105e00000-7f9105e10000 r--s 00000000 fe:00 339905                     /tmp/shared-written', { Rss: 64, Shared_Dirty: 64 }),
  mapping('7f9105f00000-7f9105f10000 r-xp 00000000 fe:00 339906                     /tmp/locked.so', { Rss: 64, Shared_Clean: 64, Locked: 64 }),
  mapping('7ffd8a1f0000-7ffd8a1f2000 r-xp 00000000 00:00 0                          [vdso]', { Rss: 8, Shared_Clean: 8 }),
].join('\n');

describe('release-pages', () => {
  it('parses smaps: address range, permissions, path, kB fields', () => {
    const [first] = parseSmaps(smaps);
    expect(first).toMatchObject({ start: 0x400000, end: 0xb6f000, perms: 'r--p', path: '/usr/bin/node' });
    expect(first!.kb).toMatchObject({ Rss: 6704, Anonymous: 0, Private_Dirty: 0 });
    expect(parseSmaps(smaps)).toHaveLength(12);
  });

  it('releases only read-only file mappings with resident pages, none written (no dirty, no anonymous page)', () => {
    const chosen = releasable(parseSmaps(smaps)).map((m) => `${m.perms} ${m.path}`);
    expect(chosen).toEqual(['r--p /usr/bin/node', 'r-xp /usr/bin/node', 'r-xp /usr/lib/x86_64-linux-gnu/libc.so.6']);
  });
});
