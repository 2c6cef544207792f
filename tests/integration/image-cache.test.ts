/**
 * The extraction cache: a second run does not read the archive, broken entries are never
 * used, 10 concurrent first runs extract once, a SIGKILLed extractor's temp dir is
 * reclaimed, ENOSPC fails cleanly, and the CLI's listing and removal.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gcImageTemps, listCacheEntries, prepareImage, removeCacheEntry, type PrepareDeps } from '../../src/image/index.js';
import { readArchiveFile } from '../../src/image/archive-hash.js';
import { silentLogger } from '../../src/log.js';
import { bundleImageWorker, runImageWorker, startImageWorker, type Bundled } from '../helpers/image-child.js';
import { tarArchive } from '../helpers/image-tar.js';
import { snapshotTree } from '../helpers/image-tree.js';

let worker: Bundled;
let work: string;

beforeAll(async () => {
  worker = await bundleImageWorker();
});
afterAll(() => worker?.cleanup());
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'tsbox-image-cache-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

const opts = (root: string) => ({ root, maxRootfsSize: 1e9, log: silentLogger });

function smallArchive(path: string, marker = 'v1'): void {
  writeFileSync(path, tarArchive([{ name: 'etc/', type: '5', mode: 0o755 }, { name: 'etc/version', data: marker }], { gzip: true }));
}

/** An opener that counts the archives it opened. */
function countingOpener(): PrepareDeps & { opened: string[] } {
  const opened: string[] = [];
  return { opened, openArchive: (p) => (opened.push(p), readArchiveFile(p)) };
}

function tempDirs(root: string): string[] {
  try {
    return readdirSync(join(root, 'rootfs')).filter((n) => n.startsWith('.tmp-'));
  } catch {
    return []; // not created yet
  }
}

describe('cache hits', () => {
  it('a second run of an unchanged archive does not open it', async () => {
    const archive = join(work, 'rootfs.tar.gz');
    smallArchive(archive);
    const root = join(work, 'state');
    const deps = countingOpener();
    const first = await prepareImage(archive, opts(root), deps);
    expect(first.source).toBe('extracted');
    expect(deps.opened).toEqual([archive]);
    const second = await prepareImage(archive, opts(root), deps);
    expect(second).toEqual({ ...first, source: 'cache' });
    expect(deps.opened).toEqual([archive]); // not opened again
    expect(readFileSync(join(second.treeDir, 'etc/version'), 'utf8')).toBe('v1');
  });

  it('a changed archive (same size, same mtime restored) is read again', async () => {
    const archive = join(work, 'rootfs.tar.gz');
    smallArchive(archive, 'v1');
    const root = join(work, 'state');
    const deps = countingOpener();
    const first = await prepareImage(archive, opts(root), deps);
    smallArchive(archive, 'v2');
    utimesSync(archive, new Date(1_600_000_000_000), new Date(1_600_000_000_000));
    const second = await prepareImage(archive, opts(root), deps);
    expect(deps.opened).toHaveLength(2);
    expect(second.source).toBe('extracted');
    expect(second.digest).not.toBe(first.digest);
    expect(readFileSync(join(second.treeDir, 'etc/version'), 'utf8')).toBe('v2');
  });

  it('two archive files with the same bytes share one entry', async () => {
    const a = join(work, 'a.tar.gz');
    smallArchive(a);
    const b = join(work, 'b.tar.gz');
    writeFileSync(b, readFileSync(a));
    const root = join(work, 'state');
    const ra = await prepareImage(a, opts(root));
    const rb = await prepareImage(b, opts(root));
    expect(rb.treeDir).toBe(ra.treeDir);
    expect((await listCacheEntries(root)).map((e) => e.digest)).toEqual([ra.digest]);
    expect(tempDirs(root)).toEqual([]);
  });
});

describe('broken entries are detected, never used', () => {
  const breakages: Array<[string, (entryDir: string) => void]> = [
    ['marker deleted', (dir) => unlinkSync(join(dir, 'entry.json'))],
    ['marker names another digest', (dir) => {
      const marker = JSON.parse(readFileSync(join(dir, 'entry.json'), 'utf8'));
      writeFileSync(join(dir, 'entry.json'), JSON.stringify({ ...marker, digest: `sha256:${'0'.repeat(64)}` }));
    }],
    ['marker truncated', (dir) => writeFileSync(join(dir, 'entry.json'), '{"digest":')],
    ['tree deleted', (dir) => rmSync(join(dir, 'tree'), { recursive: true })],
  ];
  for (const [what, breakIt] of breakages) {
    it(`${what}: extracted again`, async () => {
      const archive = join(work, 'rootfs.tar.gz');
      smallArchive(archive);
      const root = join(work, 'state');
      const deps = countingOpener();
      const first = await prepareImage(archive, opts(root), deps);
      breakIt(join(first.treeDir, '..'));
      expect((await listCacheEntries(root))[0]!.valid).toBe(false);
      const again = await prepareImage(archive, opts(root), deps);
      expect(again.source).toBe('extracted');
      expect(deps.opened).toHaveLength(2);
      expect(again.treeDir).toBe(first.treeDir);
      expect(readFileSync(join(again.treeDir, 'etc/version'), 'utf8')).toBe('v1');
      expect((await listCacheEntries(root))[0]!.valid).toBe(true);
      expect(tempDirs(root)).toEqual([]);
    });
  }
});

describe('listing and removal', () => {
  it('lists entries with size, last use, digest and source, and removes them', async () => {
    const archive = join(work, 'rootfs.tar.gz');
    smallArchive(archive, 'twelve bytes');
    const root = join(work, 'state');
    expect(await listCacheEntries(root)).toEqual([]);
    const before = Date.now();
    const prepared = await prepareImage(archive, opts(root));
    const [entry, ...rest] = await listCacheEntries(root);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ digest: prepared.digest, size: 12, sourcePath: archive, valid: true });
    expect(entry!.lastUsed!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    expect(await removeCacheEntry(root, prepared.digest!)).toBe(true);
    expect(await listCacheEntries(root)).toEqual([]);
    expect(await removeCacheEntry(root, prepared.digest!)).toBe(false);
    await expect(removeCacheEntry(root, 'sha256:../../etc')).rejects.toThrow(/not a sha256 digest/);
    // Removed from the index too: the next run extracts again.
    const deps = countingOpener();
    expect((await prepareImage(archive, opts(root), deps)).source).toBe('extracted');
    expect(deps.opened).toHaveLength(1);
  });
});

describe('concurrency and crashes', () => {
  it('10 concurrent first runs (separate processes) extract once', async () => {
    const archive = join(work, 'big.tar');
    // Big enough that the runs overlap: a few thousand files.
    const entries = Array.from({ length: 3000 }, (_, i) => ({ name: `d${i % 30}/f${i}`, data: `file ${i}` }));
    writeFileSync(archive, tarArchive(entries));
    const root = join(work, 'state');
    const runs = await Promise.all(Array.from({ length: 10 }, () => runImageWorker(worker.script, [archive, root])));
    const sources = runs.map((r) => r.result.source ?? r.result.error);
    expect(sources.filter((s) => s === 'extracted')).toHaveLength(1);
    expect(sources.filter((s) => s === 'cache')).toHaveLength(9);
    expect(new Set(runs.map((r) => r.result.treeDir)).size).toBe(1);
    expect(readdirSync(join(root, 'rootfs')).filter((n) => /^[0-9a-f]{64}$/.test(n))).toHaveLength(1);
    expect(tempDirs(root)).toEqual([]);
  }, 60_000);

  it('the temp dir of a SIGKILLed extractor is reclaimed by gc, a live one is not', async () => {
    const root = join(work, 'state');
    const archive = tarArchive([{ name: 'big', data: Buffer.alloc(4 * 1024 * 1024, 1) }]);
    // Feed half the archive on stdin, so the extractor is stuck mid-way.
    const live = startImageWorker(worker.script, ['-', root]);
    const doomed = startImageWorker(worker.script, ['-', root]);
    live.child.stdin!.write(archive.subarray(0, archive.length / 2));
    doomed.child.stdin!.write(archive.subarray(0, archive.length / 2));
    // What the pipe had not taken yet fails with EPIPE once the doomed one is killed.
    doomed.child.stdin!.on('error', () => {});
    for (let i = 0; i < 200 && tempDirs(root).length < 4; i++) await sleep(25); // 2 dirs + 2 locks
    expect(tempDirs(root)).toHaveLength(4);

    expect(await gcImageTemps(root, silentLogger)).toBe(0); // both owners alive
    doomed.child.kill('SIGKILL');
    const killed = await doomed.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(await gcImageTemps(root, silentLogger)).toBe(1);
    expect(tempDirs(root)).toHaveLength(2); // the live one and its lock

    live.child.stdin!.end(archive.subarray(archive.length / 2));
    const finished = await live.done;
    expect(finished.result.source).toBe('extracted');
    expect(tempDirs(root)).toEqual([]);
    expect(await gcImageTemps(root, silentLogger)).toBe(0);
  }, 30_000);

  it('an orphaned temp dir without its lock file is reclaimed', async () => {
    const root = join(work, 'state');
    mkdirSync(join(root, 'rootfs', '.tmp-999-orphan', 'tree'), { recursive: true });
    expect(await gcImageTemps(root, silentLogger)).toBe(1);
    expect(tempDirs(root)).toEqual([]);
  });
});

describe('ENOSPC', () => {
  it('fails with one clear line, removes the temp dir, leaves no entry', async () => {
    const mnt = join(work, 'small');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    try {
      const archive = join(work, 'big.tar.gz');
      writeFileSync(archive, tarArchive([{ name: 'a', data: Buffer.alloc(1024 * 1024, 1) }, { name: 'b', data: Buffer.alloc(3 * 1024 * 1024, 2) }], { gzip: true }));
      const err = await prepareImage(archive, opts(mnt)).catch((e: unknown) => e as Error & { step?: string; hint?: string });
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toMatch(/^no space left on device while extracting the rootfs into /);
      expect(err!.message).not.toContain('\n');
      expect(err!.step).toBe('prepare rootfs');
      expect(tempDirs(mnt)).toEqual([]);
      expect(readdirSync(join(mnt, 'rootfs')).filter((n) => /^[0-9a-f]{64}$/.test(n))).toEqual([]);
      expect(await listCacheEntries(mnt)).toEqual([]);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('snapshot helper sanity', () => {
  it('sees a difference in one file mode', async () => {
    const dir = join(work, 'x');
    mkdirSync(dir);
    writeFileSync(join(dir, 'f'), 'x', { mode: 0o644 });
    const a = snapshotTree(dir);
    execFileSync('chmod', ['600', join(dir, 'f')]);
    expect(snapshotTree(dir)).not.toEqual(a);
  });
});
