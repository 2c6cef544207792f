/**
 * Files named from the tmpfile pool (image/tmpfile-pool.ts: unnamed files made ahead on the
 * thread pool, then linkat'd into place) come out exactly as GNU tar makes them, and a
 * member that replaces a planted symlink replaces it, never writes through it. The pool is
 * filled before the extraction starts (polled, not timed), so every regular file here takes
 * that path; the test checks that it did. An extraction's own pool starts only once a window
 * of the extractor's creations is slow: the second test drives that decision.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractArchive } from '../../src/image/extract.js';
import { TmpfilePool } from '../../src/image/tmpfile-pool.js';
import { close, O, openat, AT } from '../../src/sys/fs.js';
import { tarArchive, type TarEntry } from '../helpers/image-tar.js';
import { snapshotTree } from '../helpers/image-tree.js';

let work: string;
let outside: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tsbox-tmpfile-'));
  outside = join(work, 'outside-target');
  writeFileSync(outside, 'host file\n');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function entries(): TarEntry[] {
  const t = 1_650_000_000;
  return [
    { name: 'etc/', type: '5', mode: 0o755, mtime: t },
    { name: 'etc/passwd', mode: 0o644, data: 'root:x:0:0::/root:/bin/sh\n', mtime: t + 1 },
    { name: 'etc/shadow', mode: 0o640, gid: 42, data: 'root:*::0:::::\n', mtime: t + 2 },
    { name: 'usr/bin/su', mode: 0o4755, data: 'su', mtime: t + 3 },
    { name: 'usr/bin/wall', mode: 0o2755, gid: 5, data: 'wall', mtime: t + 4 },
    { name: 'home/u/notes', mode: 0o600, uid: 1000, gid: 1000, data: 'n', pax: [['mtime', `${t + 5}.123456789`]] },
    { name: 'home/u/ping', mode: 0o755, data: 'ping', mtime: t + 6, pax: [['SCHILY.xattr.user.comment', 'hello']] },
    { name: 'srv/', type: '5', mode: 0o2775, gid: 50, mtime: t + 7 },
    { name: 'srv/plain', mode: 0o644, data: 'p', mtime: t + 7 },
    // A symlink to a host file, then a regular file of the same name: replaced, not written through.
    { name: 'victim', type: '2', linkname: outside, mtime: t + 8 },
    { name: 'victim', mode: 0o644, data: 'inside\n', mtime: t + 9 },
    // The same name twice: the second wins; a hard link to it.
    { name: 'dup', mode: 0o644, data: 'first\n', mtime: t + 10 },
    { name: 'dup', mode: 0o600, data: 'second\n', mtime: t + 11 },
    { name: 'dup-link', type: '1', linkname: 'dup', mtime: t + 11 },
    { name: 'empty', mode: 0o644, data: '', mtime: t + 12 },
  ];
}

describe('files named from the tmpfile pool', () => {
  it('match GNU tar node for node, replace a planted symlink, and did come from the pool', async () => {
    const archive = join(work, 'a.tar');
    writeFileSync(archive, tarArchive(entries()));
    const gnu = join(work, 'gnu');
    mkdirSync(gnu);
    execFileSync('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', archive, '-C', gnu], { stdio: 'pipe' });

    const tree = join(work, 'ours');
    mkdirSync(tree);
    const scratchFd = openat(AT.FDCWD, work, O.RDONLY | O.DIRECTORY);
    const pool = new TmpfilePool(scratchFd, 'now');
    try {
      const regular = entries().filter((e) => (e.type ?? '0') === '0').length;
      // Filled before the first member: every regular file can take a ready one.
      while (pool.available < regular) await new Promise((r) => setImmediate(r));
      const bytes = readFileSync(archive);
      await extractArchive((async function* () { yield bytes; })(), tree, { maxBytes: 1e9, maxEntries: 1000, tmpfiles: pool });
      expect(pool.taken).toBe(regular);
    } finally {
      await pool.close();
      close(scratchFd);
    }
    // Directories the archive does not list (".", "usr", "home"...) get the time they were made.
    const listed = new Set(entries().filter((e) => e.type === '5').map((e) => e.name.replace(/\/$/, '')));
    const opts = { ignoreMtime: (rel: string, info: { type: string }) => info.type === 'dir' && !listed.has(rel) };
    // GNU tar keeps "victim" a symlink (it delays absolute symlinks past later members); the
    // last member wins here, as in docker: checked on its own below.
    const [ours, theirs] = [snapshotTree(tree, opts), snapshotTree(gnu, opts)];
    const victim = ours['victim'];
    delete ours['victim'];
    delete theirs['victim'];
    expect(ours).toEqual(theirs);
    expect([victim?.type, victim?.mode]).toEqual(['file', '644']);
    expect(readFileSync(outside, 'utf8')).toBe('host file\n');
    expect(readFileSync(join(tree, 'victim'), 'utf8')).toBe('inside\n');
    expect(readFileSync(join(tree, 'dup'), 'utf8')).toBe('second\n');
  });

  it('starts only once a window of the extractor\'s own creations proves slow (32 of them, mean over 100 us)', async () => {
    const scratchFd = openat(AT.FDCWD, work, O.RDONLY | O.DIRECTORY);
    const [fast, slow] = [new TmpfilePool(scratchFd), new TmpfilePool(scratchFd)];
    try {
      for (let i = 0; i < 32 * 10; i++) fast.noteDirectCreate(20_000n); // 20 us: a journaled ext4
      // Fast at first, then 300 us (ext4 without a journal reaching recently freed inodes).
      for (let i = 0; i < 32 * 3; i++) slow.noteDirectCreate(20_000n);
      for (let i = 0; i < 31; i++) slow.noteDirectCreate(300_000n);
      expect(slow.deciding).toBe(true);
      slow.noteDirectCreate(300_000n);
      expect([fast.deciding, slow.deciding]).toEqual([true, false]);
      // The slow one fills (polled); the fast one never made a file.
      while (slow.available === 0) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 50));
      expect(fast.available).toBe(0);
      expect(fast.take()).toBeNull();
      const fd = slow.take();
      expect(fd).not.toBeNull();
      close(fd!);
    } finally {
      await fast.close();
      await slow.close();
      close(scratchFd);
    }
  });
});
