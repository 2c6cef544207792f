/**
 * The hostile-archive corpus: each published escape class, plus corrupt and oversized
 * archives. For every archive, with openat2 (in process) and with the userspace fallback
 * (child process, --no-openat2):
 * - nothing outside the tree changed: a canary directory planted next to the state root,
 *   which the archives aim at with absolute and relative symlinks, is byte-for-byte and
 *   time-for-time untouched, and the directory around it holds nothing new;
 * - the archive either lands under the cache root or fails with one clear line;
 * - no temp dir remains;
 * - both resolvers agree (same tree, or both fail).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareImage, removeCacheEntry, type PreparedImage } from '../../src/image/index.js';
import { silentLogger } from '../../src/log.js';
import { bundleImageWorker, runImageWorker, type Bundled } from '../helpers/image-child.js';
import { tarArchive, tarEntry, tarHeader, type TarEntry } from '../helpers/image-tar.js';
import { snapshotTree, type Snapshot } from '../helpers/image-tree.js';

let work: string;
let worker: Bundled;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsbox-image-hostile-'));
  worker = await bundleImageWorker();
});

afterAll(() => {
  // rm, not rmSync: some cases build trees deeper than PATH_MAX, which fs.rm cannot remove.
  execFileSync('rm', ['-rf', '--one-file-system', '--', work]);
  worker?.cleanup();
});

interface Case {
  name: string;
  /** Archive bytes; `canary` is the canary dir's absolute path, `up` a relative path from the tree to it. */
  archive(canary: string, up: string): Buffer;
  expect: 'ok' | RegExp;
  maxBytes?: number;
  maxEntries?: number;
  /** Extra checks on the extracted tree. */
  check?(tree: string, snap: Snapshot, state: string, digest: string): void | Promise<void>;
  /** The tree is too deep for the snapshot walker (paths beyond PATH_MAX). */
  noSnapshot?: boolean;
}

// tree = <case>/state/rootfs/.tmp-X/tree: four levels below <case>, where the canary lives.
const UP = '../../../../canary';

const cases: Case[] = [
  {
    name: 'write through an absolute symlink to a directory',
    archive: (canary) => tarArchive([{ name: 'evil', type: '2', linkname: canary }, { name: 'evil/pwned', data: 'x' }]),
    expect: /ENOENT/, // resolved inside the tree, where that path does not exist
  },
  {
    name: 'write through a relative symlink climbing out',
    archive: (_c, up) => tarArchive([{ name: 'evil', type: '2', linkname: up }, { name: 'evil/pwned', data: 'x' }]),
    expect: /ENOENT/,
  },
  {
    name: 'write through a symlink whose target exists inside the tree: lands inside',
    archive: (canary) =>
      tarArchive([
        { name: `${canary.slice(1)}/`, type: '5', mode: 0o755 },
        { name: 'evil', type: '2', linkname: canary },
        { name: 'evil/pwned', data: 'inside' },
      ]),
    expect: 'ok',
    check: (tree, snap) => {
      const canaryInTree = Object.keys(snap).find((k) => k.endsWith('canary/pwned'));
      expect(canaryInTree).toBeDefined();
      expect(readFileSync(join(tree, canaryInTree!), 'utf8')).toBe('inside');
    },
  },
  {
    name: 'overwrite a file through a symlink to a host file',
    archive: (canary) => tarArchive([{ name: 'f', type: '2', linkname: `${canary}/file` }, { name: 'f', data: 'replaced' }]),
    expect: 'ok',
    check: (_t, snap) => expect(snap['f']).toMatchObject({ type: 'file', size: 8 }),
  },
  {
    name: 'write below a nested symlinked directory',
    archive: (canary) => tarArchive([{ name: 'a/', type: '5' }, { name: 'a/b', type: '2', linkname: canary }, { name: 'a/b/c/d', data: 'x' }]),
    expect: /ENOENT/, // a/b leads to a path that does not exist inside the tree
  },
  {
    name: 'a directory later replaced by a symlink out',
    archive: (_c, up) => tarArchive([{ name: 'd/', type: '5' }, { name: 'd', type: '2', linkname: up }, { name: 'd/pwned', data: 'x' }]),
    expect: /ENOENT/,
  },
  {
    name: 'a directory replaced by a symlink to the root, then written through',
    archive: () => tarArchive([{ name: 'd/', type: '5' }, { name: 'd', type: '2', linkname: '/' }, { name: 'd/etc/x', data: 'x' }]),
    expect: 'ok',
    check: (_t, snap) => {
      expect(snap['d']!.type).toBe('symlink');
      expect(snap['etc/x']!.type).toBe('file');
    },
  },
  {
    name: 'a symlink climbing with many ..: clamped at the tree root',
    archive: () => tarArchive([{ name: 'up', type: '2', linkname: '../../../../../../../../..' }, { name: 'up/pwned', data: 'x' }]),
    expect: 'ok',
    check: (_t, snap) => expect(snap['pwned']!.type).toBe('file'),
  },
  {
    // issue 10: a node for a host device made on the host, next to the state root
    name: 'a device node through an absolute symlink to a directory',
    archive: (canary) => tarArchive([{ name: 'evil', type: '2', linkname: canary }, { name: 'evil/disk', type: '4', mode: 0o666, devmajor: 7, devminor: 0 }]),
    expect: /ENOENT/,
  },
  {
    name: 'a device node through a relative symlink climbing out',
    archive: (_c, up) => tarArchive([{ name: 'evil', type: '2', linkname: up }, { name: 'evil/kmsg', type: '3', mode: 0o666, devmajor: 1, devminor: 11 }]),
    expect: /ENOENT/,
  },
  {
    name: 'a device node over a symlink to a host file: replaces the symlink, inside the tree',
    archive: (canary) => tarArchive([{ name: 'f', type: '2', linkname: `${canary}/file` }, { name: 'f', type: '4', mode: 0o600, devmajor: 7, devminor: 0 }]),
    expect: 'ok',
    check: (_t, snap) => expect(snap['f']).toMatchObject({ type: 'block', rdev: 0x700 }),
  },
  {
    name: 'hard link to a file outside via ..',
    archive: () => tarArchive([{ name: 'h', type: '1', linkname: '../../../../canary/file' }]),
    expect: /hard link target: name contains a "\.\." component/,
  },
  {
    name: 'hard link to an absolute host path',
    archive: (canary) => tarArchive([{ name: 'h', type: '1', linkname: `${canary}/file` }]),
    expect: /ENOENT/, // absolute link names are member names: looked up inside the tree
  },
  {
    name: 'hard link through a symlink',
    archive: (canary) => tarArchive([{ name: 'l', type: '2', linkname: canary }, { name: 'h', type: '1', linkname: 'l/file' }]),
    expect: /goes through a symlink/,
  },
  {
    name: 'hard link then a regular file of the same name',
    archive: () => tarArchive([{ name: 'x', data: 'original' }, { name: 'y', type: '1', linkname: 'x' }, { name: 'y', data: 'new content' }]),
    expect: 'ok',
    check: (tree, snap) => {
      expect(readFileSync(join(tree, 'x'), 'utf8')).toBe('original');
      expect(readFileSync(join(tree, 'y'), 'utf8')).toBe('new content');
      expect(snap['x']!.nlink).toBe(1);
    },
  },
  {
    name: 'hard link to a directory',
    archive: () => tarArchive([{ name: 'd/', type: '5' }, { name: 'h', type: '1', linkname: 'd' }]),
    expect: /EPERM/,
  },
  {
    name: 'the root replaced by a symlink',
    archive: (canary) => tarArchive([{ name: './', type: '2', linkname: canary }, { name: 'pwned', data: 'x' }]),
    expect: /would replace the root directory/,
  },
  {
    name: 'the root replaced by a file',
    archive: () => tarArchive([{ name: '.', data: 'x' }]),
    expect: /would replace the root directory/,
  },
  {
    name: 'absolute names and repeated slashes',
    archive: () => tarArchive([{ name: '/etc//passwd', data: 'root' }, { name: '//abs///x', data: 'x' }]),
    expect: 'ok',
    check: (_t, snap) => {
      expect(snap['etc/passwd']!.type).toBe('file');
      expect(snap['abs/x']!.type).toBe('file');
    },
  },
  {
    name: '.. in a member name',
    archive: () => tarArchive([{ name: 'ok', data: 'x' }, { name: 'a/../../pwned', data: 'x' }]),
    expect: /rootfs archive entry "a\/\.\.\/\.\.\/pwned": name contains a "\.\." component/,
  },
  {
    name: 'a symlink loop',
    archive: () => tarArchive([{ name: 'a', type: '2', linkname: 'b' }, { name: 'b', type: '2', linkname: 'a' }, { name: 'a/x', data: 'x' }]),
    expect: /ELOOP/,
  },
  {
    name: 'look-alike names are kept literally',
    archive: () => tarArchive([{ name: '\u2024\u2024/x', data: 'x' }, { name: '..\\..\\evil', data: 'x' }, { name: 'a\u2215b', data: 'x' }]),
    expect: 'ok',
    check: (_t, snap) => expect(Object.keys(snap).sort()).toEqual(['.', '..\\..\\evil', 'a\u2215b', '\u2024\u2024', '\u2024\u2024/x']),
  },
  {
    name: 'a fifo replaced by a file (must not open the fifo)',
    archive: () => tarArchive([{ name: 'p', type: '6' }, { name: 'p', data: 'file' }]),
    expect: 'ok',
    check: (_t, snap) => expect(snap['p']!.type).toBe('file'),
  },
  {
    name: 'a non-empty directory replaced by a file',
    archive: () => tarArchive([{ name: 'd/', type: '5' }, { name: 'd/f', data: 'x' }, { name: 'd', data: 'x' }]),
    expect: /cannot replace the non-empty directory "d"/,
  },
  {
    name: 'a GNU long name with a NUL byte: cut at the NUL, as tar does',
    archive: () => tarArchive([{ name: 'a\0b/' + 'x'.repeat(120), data: 'x', gnuLongNames: true }]),
    expect: 'ok',
    check: (_t, snap) => expect(Object.keys(snap).sort()).toEqual(['.', 'a']),
  },
  {
    name: 'a PAX path with a NUL byte',
    archive: () => tarArchive([{ name: 'x', data: 'x', pax: [['path', 'a\0/../../pwned']] }]),
    expect: /NUL/,
  },
  {
    name: 'a malformed PAX record',
    archive: () => {
      const good = tarEntry({ name: 'x', data: 'x', pax: [['path', 'y']] });
      // Corrupt the record length inside the PAX data block (second 512-byte block).
      good.write('x', 512, 'latin1');
      return Buffer.concat([good, Buffer.alloc(1024)]);
    },
    expect: /^rootfs archive: malformed PAX header: bad PAX record length at byte 0$/,
  },
  {
    name: 'a bad header checksum',
    archive: () => tarArchive([{ name: 'a', data: 'x' }, { name: 'b', data: 'x', badChecksum: true }]),
    expect: /^rootfs archive is corrupt: a tar header has a bad checksum$/,
  },
  {
    name: 'a negative size',
    archive: () => tarArchive([{ name: 'a', data: 'x', negativeSize: true }]),
    expect: /^rootfs archive is corrupt: a tar header has an invalid size$/,
  },
  {
    name: 'a size larger than the data',
    archive: () => tarArchive([{ name: 'a', data: 'x', size: 2 ** 33 }]),
    expect: /expands to more than|truncated/,
  },
  {
    name: 'truncated inside a file',
    archive: () => tarArchive([{ name: 'a', data: Buffer.alloc(5000, 1) }]).subarray(0, 2048),
    expect: /^rootfs archive is truncated$/,
  },
  {
    name: 'truncated at an entry boundary (no end marker)',
    archive: () => tarArchive([{ name: 'a', data: 'x' }], { noEnd: true }),
    expect: /truncated \(no end-of-archive marker\)/,
  },
  {
    name: 'truncated gzip',
    archive: () => tarArchive([{ name: 'a', data: Buffer.alloc(100000, 7) }], { gzip: true }).subarray(0, 60),
    expect: /gzip data is corrupt or truncated/,
  },
  {
    name: 'not an archive',
    archive: () => Buffer.alloc(2048, 0x61),
    expect: /not a tar or gzip archive/,
  },
  {
    name: 'a gzip bomb over a small --max-rootfs-size',
    archive: () => tarArchive([{ name: 'small', data: 'x' }, { name: 'bomb', data: Buffer.alloc(64 * 1024 * 1024) }], { gzip: true }),
    maxBytes: 1024 * 1024,
    expect: /^rootfs archive expands to more than 1048576 bytes \(at "bomb"\)$/,
  },
  {
    name: 'a PAX record that is not a key=value',
    archive: () => tarArchive([{ name: 'x', data: 'x', pax: [['=novalue', 'x']] }]),
    expect: /malformed PAX header/,
  },
  {
    name: 'very deep directories (500 levels)',
    archive: () => {
      const entries: TarEntry[] = [];
      let path = '';
      for (let i = 0; i < 500; i++) {
        path += 'd/';
        entries.push({ name: path, type: '5', mode: 0o755 });
      }
      entries.push({ name: `${path}leaf`, data: 'deep' });
      return tarArchive(entries);
    },
    expect: 'ok',
    check: (tree) => expect(readFileSync(join(tree, 'd/'.repeat(500) + 'leaf'), 'utf8')).toBe('deep'),
  },
  {
    name: 'directories deeper than PATH_MAX',
    archive: () => tarArchive([{ name: 'x', data: 'x', pax: [['path', 'dd/'.repeat(1500) + 'leaf']] }]),
    expect: /name is longer than PATH_MAX/,
  },
  {
    name: 'a tree deeper than PATH_MAX built through symlinks: extracted, and removable',
    archive: () => {
      const deep = 'd'.repeat(200) + '/';
      const entries: TarEntry[] = [];
      // Each level: a 3000-byte directory chain reached through a short symlink.
      let parent = '';
      for (let level = 0; level < 3; level++) {
        let chain = '';
        for (let i = 0; i < 14; i++) {
          chain += deep;
          entries.push({ name: `${parent}${chain}`, type: '5', mode: 0o755 });
        }
        entries.push({ name: `l${level}`, type: '2', linkname: `/${parent}${chain}` });
        parent = `l${level}/`;
      }
      entries.push({ name: `${parent}leaf`, data: 'deep' });
      return tarArchive(entries);
    },
    expect: 'ok',
    noSnapshot: true,
    check: async (tree, _snap, state, digest) => {
      // The leaf sits 3 x 14 levels of 200-byte names deep: only fd-walking tools reach it.
      const found = execFileSync('find', [tree, '-name', 'leaf', '-type', 'f']).toString().trim().split('\n');
      expect(found).toHaveLength(1);
      expect(found[0]!.length).toBeGreaterThan(8000);
      expect(await removeCacheEntry(state, digest)).toBe(true);
      expect(readdirSync(join(state, 'rootfs')).filter((n) => /^[0-9a-f]{64}$/.test(n))).toEqual([]);
    },
  },
  {
    name: 'names that are not UTF-8 stay distinct, as bytes end to end (names, symlink targets, hard links)',
    archive: () => {
      const long = `${'l'.repeat(120)}\xff`; // through a PAX path record
      return tarArchive([
        { name: 'f\xff', data: 'one', byteNames: true },
        { name: 'f\xfe', data: 'two', byteNames: true },
        { name: 'd\xe9/', type: '5', byteNames: true },
        { name: 'd\xe9/x\x80', data: 'three', byteNames: true },
        { name: 'link', type: '2', linkname: 'f\xff', byteNames: true },
        { name: 'hard', type: '1', linkname: 'f\xfe', byteNames: true },
        { name: long, data: 'four', byteNames: true },
        { name: `g${long}`, data: 'five', byteNames: true, gnuLongNames: true },
      ]);
    },
    expect: 'ok',
    noSnapshot: true, // the snapshot walker reads names as UTF-8: exactly what this case is about
    check: (tree) => {
      const at = (...bytes: number[][]) => Buffer.concat([Buffer.from(`${tree}/`), ...bytes.map((b, i) => Buffer.concat([i > 0 ? Buffer.from('/') : Buffer.alloc(0), Buffer.from(b)]))]);
      const names = readdirSync(tree, { encoding: 'buffer' }).map((n) => n.toString('hex')).sort();
      const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
      expect(names).toEqual(['f\xff', 'f\xfe', 'd\xe9', 'link', 'hard', `${'l'.repeat(120)}\xff`, `g${'l'.repeat(120)}\xff`].map(hex).sort());
      expect(readFileSync(at([0x66, 0xff]), 'utf8')).toBe('one');
      expect(readFileSync(at([0x66, 0xfe]), 'utf8')).toBe('two');
      expect(readFileSync(at([0x64, 0xe9], [0x78, 0x80]), 'utf8')).toBe('three');
      expect(readlinkSync(join(tree, 'link'), { encoding: 'buffer' }).toString('hex')).toBe('66ff');
      expect(statSync(join(tree, 'hard')).ino).toBe(statSync(at([0x66, 0xfe])).ino);
      expect(readFileSync(at([...Buffer.from('l'.repeat(120)), 0xff]), 'utf8')).toBe('four');
      expect(readFileSync(at([0x67, ...Buffer.from('l'.repeat(120)), 0xff]), 'utf8')).toBe('five');
    },
  },
  {
    name: 'a global PAX header of 300k records (each later member would pay for all of them)',
    archive: () => {
      const text = Array.from({ length: 300_000 }, (_, i) => `13 k${String(i).padStart(6, '0')}=v\n`).join('');
      const data = Buffer.from(text);
      const header = Buffer.concat([tarHeader({ name: 'pax_global_header', type: 'g' }, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
      const members: TarEntry[] = [];
      for (let i = 0; i < 2000; i++) members.push({ name: `f${i}`, data: '' });
      return gzipSync(Buffer.concat([header, tarArchive(members)]));
    },
    expect: /^rootfs archive: malformed PAX header: more than 64 records in one header$/,
  },
  {
    name: 'headers count toward --max-rootfs-size: a stream of large PAX records with no content',
    archive: () => {
      const members: TarEntry[] = [];
      for (let i = 0; i < 100; i++) members.push({ name: `f${i}`, data: '', pax: [['comment', 'c'.repeat(100_000)]] });
      return gzipSync(tarArchive(members));
    },
    maxBytes: 1024 * 1024,
    expect: /^rootfs archive expands to more than 1048576 bytes/,
  },
  {
    name: 'more members than --max-rootfs-entries: empty files cost no content, but are counted',
    archive: () => {
      const members: TarEntry[] = [];
      for (let i = 0; i < 3000; i++) members.push(i % 2 ? { name: `d${i}/`, type: '5' } : { name: `f${i}`, data: '' });
      return tarArchive(members);
    },
    maxEntries: 1000,
    expect: /^rootfs archive has more than 1000 entries \(at "f1000"\)$/,
  },
];

function canaryDir(caseDir: string): string {
  const canary = join(caseDir, 'canary');
  mkdirSync(join(canary, 'sub'), { recursive: true });
  writeFileSync(join(canary, 'file'), 'canary');
  writeFileSync(join(canary, 'sub', 'inner'), 'inner');
  return canary;
}

function tempDirsLeft(state: string): string[] {
  try {
    return readdirSync(join(state, 'rootfs')).filter((n) => n.startsWith('.tmp-'));
  } catch {
    return [];
  }
}

/** Directories the archive did not list (the root here) get "now" as mtime: not comparable. */
const snap = (tree: string): Snapshot => snapshotTree(tree, { ignoreMtime: (_rel, info) => info.type === 'dir' });

type Outcome = { ok: true; tree: string; snap: Snapshot; digest: string } | { ok: false; message: string };

/** One case dir per case: the canary, the archive, and a state root per resolver. */
function setUpCase(c: Case): { caseDir: string; canary: string; archive: string } {
  const caseDir = mkdtempSync(join(work, 'case-'));
  const canary = canaryDir(caseDir);
  const archive = join(caseDir, 'archive.tar');
  writeFileSync(archive, c.archive(canary, UP));
  for (const mode of ['openat2', 'fallback']) mkdirSync(join(caseDir, `state-${mode}`));
  return { caseDir, canary, archive };
}

async function runCase(c: Case, where: { caseDir: string; canary: string; archive: string }, mode: 'openat2' | 'fallback'): Promise<Outcome> {
  const { caseDir, canary, archive } = where;
  const state = join(caseDir, `state-${mode}`);
  const before = snapshotTree(canary);
  const around = readdirSync(caseDir).sort();
  const look = (tree: string): Snapshot => (c.noSnapshot ? {} : snap(tree));

  let outcome: Outcome;
  if (mode === 'openat2') {
    try {
      const prepared: PreparedImage = await prepareImage(archive, { root: state, maxRootfsSize: c.maxBytes ?? 1e9, maxRootfsEntries: c.maxEntries, log: silentLogger });
      outcome = { ok: true, tree: prepared.treeDir, snap: look(prepared.treeDir), digest: prepared.digest! };
    } catch (err) {
      outcome = { ok: false, message: (err as Error).message };
    }
  } else {
    const r = await runImageWorker(worker.script, [archive, state, String(c.maxBytes ?? 1e9), ...(c.maxEntries ? [String(c.maxEntries)] : [])], { noOpenat2: true });
    outcome = r.result.error !== undefined ? { ok: false, message: r.result.error } : { ok: true, tree: r.result.treeDir!, snap: look(r.result.treeDir!), digest: r.result.digest! };
  }

  expect(snapshotTree(canary), 'canary changed').toEqual(before);
  expect(readdirSync(caseDir).sort(), 'something appeared next to the state root').toEqual(around);
  expect(tempDirsLeft(state), 'temp dir left').toEqual([]);
  if (outcome.ok) expect(outcome.tree.startsWith(join(state, 'rootfs') + '/')).toBe(true);
  else expect(outcome.message).not.toContain('\n');
  return outcome;
}

describe('hostile archives', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const where = setUpCase(c);
      const a = await runCase(c, where, 'openat2');
      const b = await runCase(c, where, 'fallback');
      if (c.expect === 'ok') {
        expect(a.ok ? 'ok' : a.message).toBe('ok');
        expect(b.ok ? 'ok' : b.message).toBe('ok');
        if (a.ok && b.ok) {
          expect(b.snap).toEqual(a.snap);
          await c.check?.(a.tree, a.snap, join(where.caseDir, 'state-openat2'), a.digest);
        }
      } else {
        expect(a.ok ? 'ok' : a.message).toMatch(c.expect);
        expect(b.ok ? 'ok' : b.message).toMatch(c.expect);
      }
    });
  }

  it('100k tiny entries extract quickly', async () => {
    const parts: Buffer[] = [];
    for (let d = 0; d < 100; d++) {
      parts.push(tarEntry({ name: `d${d}/`, type: '5', mode: 0o755 }));
      for (let f = 0; f < 1000; f++) parts.push(tarEntry({ name: `d${d}/f${f}`, data: '' }));
    }
    parts.push(Buffer.alloc(1024));
    const caseDir = mkdtempSync(join(work, 'many-'));
    const canary = canaryDir(caseDir);
    const before = snapshotTree(canary);
    const archive = join(caseDir, 'many.tar');
    writeFileSync(archive, gzipSync(Buffer.concat(parts)));
    const started = Date.now();
    const prepared = await prepareImage(archive, { root: join(caseDir, 'state'), maxRootfsSize: 1e9, log: silentLogger });
    const ms = Date.now() - started;
    expect(readdirSync(prepared.treeDir)).toHaveLength(100);
    expect(readdirSync(join(prepared.treeDir, 'd99'))).toHaveLength(1000);
    expect(ms).toBeLessThan(30_000);
    expect(snapshotTree(canary)).toEqual(before);
    expect(tempDirsLeft(join(caseDir, 'state'))).toEqual([]);
  }, 120_000);
});
