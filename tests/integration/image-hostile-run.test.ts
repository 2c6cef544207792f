/**
 * Hostile inputs met through the CLI, as an attacker (or an unlucky user) meets tsbox:
 * - an endless stream of empty files on `tsbox run -`: stopped by the entry bound, one line, 125;
 * - SIGTERM, SIGINT, SIGHUP during an endless or stalled extraction: tsbox ends soon after
 *   (polled against a generous deadline), and no partial cache entry or temp dir remains;
 * - a container that builds a directory chain 5,000 deep in its writable layer: the run
 *   keeps the command's status, leaves nothing, and gc reclaims such a chain after a SIGKILL;
 * - a dead run's leftovers that cannot be removed never block the next run;
 * - a long extraction shows its progress on a terminal, and nothing when stderr is not one.
 * Each test uses its own state root, so what it finds there is its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { tarHeader } from '../helpers/image-tar.js';
import { rootfsTar, TSBOX_BIN, tsbox } from '../helpers/tsbox.js';

const roots: string[] = [];
function freshRoot(): string {
  const root = mkdtempSync(join(inject('workDir'), 'hostile-run-'));
  roots.push(root);
  return root;
}

afterAll(() => {
  for (const root of roots) execFileSync('rm', ['-rf', '--one-file-system', '--', root]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll until `cond` holds; fails with `what` after `deadlineMs` (generous: a shared, loaded machine). */
async function until(cond: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}

interface Running {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done(): boolean;
}

function start(args: string[], root: string): Running {
  const child = spawn(TSBOX_BIN, args, { env: { ...process.env, TSBOX_ROOT: root }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let finished = false;
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.resume();
  child.stdin!.on('error', () => {}); // EPIPE once tsbox stops reading
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      finished = true;
      resolve({ code, signal });
    }),
  );
  return { child, stderr: () => stderr, exited, done: () => finished };
}

/** Empty files f<n>, 512 bytes each, in 256 KiB writes, for as long as tsbox reads (or until `count`). */
function feedEmptyFiles(run: Running, count = Infinity): void {
  let n = 0;
  const block = () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < 512 && n < count; i++, n++) parts.push(tarHeader({ name: `f${n}` }, 0));
    return Buffer.concat(parts);
  };
  const pump = () => {
    while (!run.done() && n < count) {
      if (!run.child.stdin!.write(block())) {
        run.child.stdin!.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** Cache entries and temp dirs under a root's rootfs/ (what an interrupted extraction must not leave). */
function cacheLeft(root: string): string[] {
  const dir = join(root, 'rootfs');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n !== '.locks') : [];
}

/** Entries extracted so far into the temp dir of an extraction in progress. */
function extractedSoFar(root: string): number {
  for (const name of cacheLeft(root)) {
    if (!name.startsWith('.tmp-') || name.endsWith('.lock')) continue;
    try {
      return readdirSync(join(root, 'rootfs', name, 'tree')).length;
    } catch {
      return 0;
    }
  }
  return 0;
}

const containersLeft = (root: string) => (existsSync(join(root, 'containers')) ? readdirSync(join(root, 'containers')) : []);

describe('extraction bounds and signals', () => {
  it('stops an endless stream of empty files at the entry bound: one line, 125, nothing left', async () => {
    const root = freshRoot();
    const run = start(['run', '--max-rootfs-entries', '20000', '-', 'true'], root);
    feedEmptyFiles(run);
    const { code } = await run.exited;
    expect(run.stderr()).toMatch(/^tsbox: prepare rootfs: rootfs archive has more than 20000 entries \(at "f20000"\)\. Raise --max-rootfs-entries .*\n$/);
    expect(code).toBe(125);
    expect(cacheLeft(root)).toEqual([]);
    expect(containersLeft(root)).toEqual([]);
  }, 120_000);

  for (const [signal, input] of [['SIGTERM', 'endless'], ['SIGINT', 'stalled'], ['SIGHUP', 'endless']] as const) {
    it(`${signal} during ${input === 'stalled' ? 'a stalled' : 'an endless'} extraction ends tsbox soon, and leaves no partial cache entry`, async () => {
      const root = freshRoot();
      const run = start(['run', '-', 'true'], root);
      // Stalled: 5,000 entries, then the pipe stays open with nothing more to read.
      feedEmptyFiles(run, input === 'stalled' ? 5000 : Infinity);
      await until(() => extractedSoFar(root) >= 2000 || run.done(), 'the extraction to be under way', 60_000);
      expect(run.done()).toBe(false);
      run.child.kill(signal);
      // A generous deadline on a loaded machine: before the fix, tsbox never ended here.
      await until(run.done, `tsbox to end after ${signal}`, 20_000);
      const { code } = await run.exited;
      const number = { SIGTERM: 15, SIGINT: 2, SIGHUP: 1 }[signal];
      expect(code).toBe(128 + number);
      expect(run.stderr()).toMatch(new RegExp(`^tsbox: setup: interrupted by ${signal} during setup\\.\\n$`));
      expect(cacheLeft(root)).toEqual([]);
      expect(containersLeft(root)).toEqual([]);
    }, 120_000);
  }
});

/** Shell that builds a chain of `levels` x 1000 directories under /tmp/c<levels-1>, 1000 levels per mv. */
function deepChainScript(levels: number): string {
  return [
    'set -e',
    'cd /tmp',
    's=""; i=0; while [ $i -lt 1000 ]; do s="$s/d"; i=$((i+1)); done',
    'mkdir -p "c0$s"',
    `k=1; while [ $k -lt ${levels} ]; do mkdir -p "c$k$s"; mv "c$((k-1))" "c$k$s/"; k=$((k+1)); done`,
  ].join('\n');
}

describe('a container that blocks its own teardown', () => {
  it('a directory chain 5,000 deep: the run keeps the command status, leaves nothing, and the next run works', async () => {
    const root = freshRoot();
    const r = await tsbox(['run', rootfsTar(), '/bin/sh', '-c', `${deepChainScript(5)}\nexit 3`], { root, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    expect(containersLeft(root)).toEqual([]);
    const next = await tsbox(['run', rootfsTar(), 'true'], { root });
    expect(next.code).toBe(0);
    const gc = await tsbox(['gc'], { root });
    expect(gc.code).toBe(0);
  }, 180_000);

  it('gc reclaims a 5,000-deep chain left by a killed run', async () => {
    const root = freshRoot();
    const run = start(['run', rootfsTar(), '/bin/sh', '-c', `${deepChainScript(5)}\ntouch /tmp/built\nexec sleep 1000`], root);
    const built = () => containersLeft(root).some((id) => existsSync(join(root, 'containers', id, 'live', 'upper', 'tmp', 'built')));
    try {
      await until(() => built() || run.done(), 'the chain to be built', 120_000);
      expect(run.done()).toBe(false);
    } finally {
      // Also when the wait fails: a run left behind would hold its container for 1000 s.
      run.child.kill('SIGKILL');
      await run.exited;
    }
    const gc = await tsbox(['gc'], { root, timeoutMs: 120_000 });
    expect(gc.stderr).toBe('');
    expect(gc.code).toBe(0);
    expect(gc.stdout).toMatch(/reclaimed 1 container/);
    expect(containersLeft(root)).toEqual([]);
  }, 240_000);

  it('leftovers of a dead run that cannot be removed do not block the next run, and gc says so', async () => {
    const root = freshRoot();
    // A dead run's directory (its lock is free) whose live part holds an immutable file: unlink fails with EPERM.
    const dead = join(root, 'containers', 'deadbeef0000');
    const stuck = join(dead, 'live', 'upper', 'stuck');
    mkdirSync(join(dead, 'live', 'upper'), { recursive: true });
    writeFileSync(join(dead, 'lock'), '');
    writeFileSync(stuck, '');
    execFileSync('chattr', ['+i', stuck]);
    try {
      const r = await tsbox(['run', rootfsTar(), 'sh', '-c', 'exit 4'], { root });
      expect(r.code).toBe(4);
      expect(r.stderr.trim().split('\n')).toHaveLength(1); // one warning line: gc will retry
      expect(r.stderr).toMatch(/could not reclaim the leftovers of a killed run/);
      const gc = await tsbox(['gc'], { root });
      expect(gc.code).toBe(125);
      expect(gc.stderr).toMatch(/^tsbox: gc: could not remove container deadbeef0000: .*EPERM.*\n$/);
    } finally {
      execFileSync('chattr', ['-i', stuck]);
    }
    const gc = await tsbox(['gc'], { root });
    expect(gc.code).toBe(0);
    expect(containersLeft(root)).toEqual([]);
  }, 120_000);
});

describe('progress on a terminal', () => {
  /** A node one-liner that copies the rootfs tarball to stdout slowly (~2.5 s). */
  const slowCat = `node -e 'const b=require("fs").readFileSync(process.argv[1]);let o=0;const t=setInterval(()=>{process.stdout.write(b.subarray(o,o+=Math.ceil(b.length/25)));if(o>=b.length)clearInterval(t)},100)' ${rootfsTar()}`;

  it('shows bytes, entries and rate on a terminal while a long extraction runs, then erases it', async () => {
    const root = freshRoot();
    // script(1) gives tsbox a terminal as stdout and stderr; the archive comes through a pipe.
    const out = execFileSync('script', ['-qec', `${slowCat} | TSBOX_ROOT=${root} ${TSBOX_BIN} run - true; echo "status=$?"`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/extracting stdin: [0-9.]+ [KM]B, [0-9,]+ entries, [0-9.]+ [KM]?B\/s/);
    expect(out).toContain('\r\x1b[K'); // the line is redrawn and erased, not scrolled
    expect(out).toMatch(/status=0/);
  }, 90_000);

  it('shows nothing when stderr is not a terminal', async () => {
    const root = freshRoot();
    const r = execFileSync('sh', ['-c', `${slowCat} | TSBOX_ROOT=${root} ${TSBOX_BIN} run - true 2>&1; echo "status=$?"`], { encoding: 'utf8', timeout: 60_000 });
    expect(r).toBe('status=0\n');
  }, 90_000);
});
