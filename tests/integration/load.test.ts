/**
 * Load: 20 concurrent first runs of one archive extract it once and all succeed; 200
 * sequential runs leave the host as they found it (mounts, cgroups, open files, processes,
 * the state root's disk use).
 *
 * Both use a state root of their own: a cold cache, and counts no other test disturbs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allCgroups, buildDataRootfs, cgroupsNamed, hostMountsMentioning, leftBehind, NOTHING_LEFT, rootState, type BuiltRootfs } from '../helpers/faults.js';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const workDir = () => inject('workDir');
const roots: string[] = [];
let archive: BuiltRootfs;

beforeAll(async () => {
  // Fresh bytes (so no other test's cache has them), ~100 MB: extraction takes long enough
  // for the 20 concurrent runs to meet it.
  archive = await buildDataRootfs(rootfsTar(), mkdtempSync(join(workDir(), 'load-archive-')), 16);
}, 120_000);

afterAll(async () => {
  for (const root of roots) {
    await tsbox(['gc'], { root });
    rmSync(root, { recursive: true, force: true });
  }
  if (archive) rmSync(join(archive.tar, '..'), { recursive: true, force: true });
});

function freshRoot(name: string): string {
  const root = mkdtempSync(join(workDir(), `load-${name}-`));
  roots.push(root);
  return root;
}

/** Every container id that appears under root/containers while `fn` runs. */
async function watchingIds<T>(root: string, fn: () => Promise<T>): Promise<{ value: T; ids: Set<string> }> {
  const ids = new Set<string>();
  // Published run directories only: .new-<id> is the same run while it builds its directory.
  const timer = setInterval(() => rootState(root).containers.filter((n) => !n.startsWith('.')).forEach((id) => ids.add(id)), 2);
  try {
    return { value: await fn(), ids };
  } finally {
    clearInterval(timer);
  }
}

function expectNothingLeft(root: string, ids: Iterable<string>): void {
  expect(leftBehind(root, ids)).toEqual(NOTHING_LEFT);
  expect(processesOf(root), 'processes').toEqual([]);
}

/** Processes whose environment names this state root: tsbox and its init. */
function processesOf(root: string): number[] {
  const needle = Buffer.from(`TSBOX_ROOT=${root}\0`);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`).includes(needle)) out.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** Open files of the whole system: the first field of /proc/sys/fs/file-nr, median of 5 reads. */
async function openFiles(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(Number(readFileSync('/proc/sys/fs/file-nr', 'utf8').split(/\s+/)[0]));
    await sleep(50);
  }
  return samples.sort((a, b) => a - b)[2]!;
}

function duBytes(path: string): number {
  return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
}

describe('20 concurrent runs of a tarball nobody extracted yet', () => {
  it('extract it once; every run succeeds with its own output; nothing leaks', async () => {
    const root = freshRoot('concurrent');
    const n = 20;
    const { value: results, ids } = await watchingIds(root, () => Promise.all(Array.from({ length: n }, (_, i) =>
      tsbox(['run', '--log-level', 'info', '--hostname', `run${i}`, archive.tar, '/bin/sh', '-c', `cat /etc/hostname; md5sum ${archive.sample.path}`], { root, timeoutMs: 90_000 }),
    )));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`run${i}\n${archive.sample.md5}  ${archive.sample.path}\n`);
    });
    const logs = results.map((r) => r.stderr).join('');
    // Exactly one extraction: one log line saying so, and one entry in the cache.
    expect(logs.match(/"msg":"extracted rootfs archive"/g)).toHaveLength(1);
    expect(rootState(root).entries).toEqual([archive.sha256]);
    // The runs did meet: some waited for the extractor (the others found it in the index).
    const waited = logs.match(/another tsbox is extracting this archive; waiting for it/g)?.length ?? 0;
    expect(waited).toBeGreaterThan(0);
    expect(ids.size).toBe(n);
    expectNothingLeft(root, ids);
  }, 120_000);
});

describe('200 sequential runs', () => {
  it('leave no mount, cgroup, open file, process or state behind', async () => {
    const root = freshRoot('sequential');
    const run = async () => {
      const r = await tsbox(['run', rootfsTar(), 'hostname'], { root });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^[0-9a-f]{12}\n$/); // the default hostname: the container's id, and its cgroup's name
      return r.stdout.trim();
    };
    // Warm up: the cache entry is made, and tsbox's files are in the page cache.
    for (let i = 0; i < 5; i++) await run();
    const before = {
      mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean),
      cgroups: new Set(allCgroups()),
      files: await openFiles(),
      cacheBytes: duBytes(join(root, 'rootfs')),
      cacheNames: readdirSync(join(root, 'rootfs')).sort(),
    };

    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await run());
    expect(new Set(ids).size).toBe(200);

    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean);
    // Other test processes on this machine may mount things of their own: only tsbox's count.
    const newMounts = mounts.filter((m) => !before.mounts.includes(m));
    expect(newMounts.filter((m) => m.includes(root) || m.includes(' - overlay ') || m.includes('tsbox')), `mountinfo: ${before.mounts.length} -> ${mounts.length} lines`).toEqual([]);
    const newCgroups = allCgroups().filter((c) => !before.cgroups.has(c));
    expect(cgroupsNamed(ids)).toEqual([]);
    expect(newCgroups.filter((c) => ids.some((id) => c.includes(id)))).toEqual([]);
    // A run that leaked even one open file (or a process holding some) would add 200+; the
    // margin is for other processes on this machine.
    const files = await openFiles();
    expect(files - before.files, `open files ${before.files} -> ${files}`).toBeLessThan(150);
    expect(duBytes(join(root, 'rootfs'))).toBe(before.cacheBytes);
    expect(readdirSync(join(root, 'rootfs')).sort()).toEqual(before.cacheNames);
    expect(readdirSync(join(root, 'containers'))).toEqual([]);
    expectNothingLeft(root, ids);
  }, 110_000);
});
