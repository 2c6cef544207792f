#!/usr/bin/env node
/**
 * Rootfs extraction benchmark: tsbox's extractor (cold: empty cache) against GNU tar
 * (`tar --numeric-owner -xpf`) on the same archive, in the same run, alternating.
 *
 *   node bench/extract.mjs [--runs N] [--gzip] [--keep]
 *
 * The tree: a Debian minbase built with debootstrap when it is installed (cached in
 * $TMPDIR/tsbox-bench/minbase between runs), otherwise parts of this machine's /usr.
 * Generated files live under $TMPDIR/tsbox-bench, never in the repository.
 * Needs root (owners, devices). Each tsbox run is a fresh node process: no warm JIT.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const project = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 5;
const gzip = args.includes('--gzip');
const work = join(tmpdir(), 'tsbox-bench');
mkdirSync(work, { recursive: true });

function sh(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], ...opts }).toString();
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** The tree to archive: debootstrap minbase if possible, else a slice of /usr. */
function sourceTree() {
  const minbase = join(work, 'minbase');
  if (existsSync(join(minbase, 'bin'))) return { dir: minbase, members: ['.'], what: 'debootstrap minbase (cached)' };
  if (which('debootstrap')) {
    console.error('building a debootstrap minbase tree (once)...');
    const r = spawnSync('debootstrap', ['--variant=minbase', 'bookworm', minbase], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status === 0) return { dir: minbase, members: ['.'], what: 'debootstrap minbase' };
    rmSync(minbase, { recursive: true, force: true });
    console.error('debootstrap failed; using /usr instead');
  }
  const candidates = ['usr/bin', 'usr/sbin', 'usr/lib/x86_64-linux-gnu', 'usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/lib/python3'];
  return { dir: '/', members: candidates.filter((p) => existsSync(join('/', p))), what: 'parts of /usr on this host' };
}

function buildArchive() {
  const src = sourceTree();
  const tarPath = join(work, gzip ? 'rootfs.tar.gz' : 'rootfs.tar');
  if (!existsSync(tarPath)) {
    console.error(`creating ${tarPath} from ${src.what}...`);
    sh('tar', ['--numeric-owner', '--xattrs', "--xattrs-include=*", gzip ? '-czf' : '-cf', tarPath, '-C', src.dir, ...src.members]);
  }
  return { tarPath, what: src.what };
}

/** Bundle src/image for plain node (the sources are TypeScript). */
function bundle() {
  const dir = join(work, 'bundle');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(project, 'node_modules'), join(dir, 'node_modules'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `import { prepareImage } from ${JSON.stringify(join(project, 'src/image/index.ts'))};
import { silentLogger } from ${JSON.stringify(join(project, 'src/log.ts'))};
const t = performance.now();
const r = await prepareImage(process.argv[2], { root: process.argv[3], maxRootfsSize: 64 * 1024 ** 3, log: silentLogger });
if (r.source !== 'extracted') throw new Error('expected a cold extraction, got ' + r.source);
console.log(JSON.stringify({ ms: performance.now() - t }));
`,
  );
  sh(join(project, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${join(dir, 'extract.mjs')}`, '--log-level=warning']);
  return join(dir, 'extract.mjs');
}

function timeTar(tarPath, dest) {
  mkdirSync(dest);
  const t = process.hrtime.bigint();
  sh('tar', ['--numeric-owner', '-xpf', tarPath, '-C', dest]);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function timeTsbox(script, tarPath, root) {
  const t = process.hrtime.bigint();
  const out = sh(process.execPath, [script, tarPath, root]);
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  return { inProcess: JSON.parse(out).ms, wall };
}

/**
 * Let the disk go quiet before a timed run: write back dirty pages, then wait for ext4's
 * online discard of the trees deleted before (it otherwise lands in the next run's time).
 */
function settle() {
  sh('sync', []);
  spawnSync('sleep', ['2']);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { tarPath, what } = buildArchive();
const script = bundle();
const size = statSync(tarPath).size;
const entries = Number(sh('sh', ['-c', `tar -tf '${tarPath}' | wc -l`]).trim());
console.log(`archive: ${tarPath} (${what}), ${(size / 1e6).toFixed(1)} MB, ${entries} entries, ${runs} runs each`);

const tarTimes = [];
const tsboxTimes = [];
const tsboxWall = [];
for (let i = 0; i < runs; i++) {
  const gnuDest = join(work, `gnu-${i}`);
  const root = join(work, `state-${i}`);
  rmSync(gnuDest, { recursive: true, force: true }); // leftovers of an interrupted run
  rmSync(root, { recursive: true, force: true });
  settle();
  // Alternate who goes first, so neither always inherits the other's writeback.
  if (i % 2 === 0) {
    tarTimes.push(timeTar(tarPath, gnuDest));
    settle();
    const r = timeTsbox(script, tarPath, root);
    tsboxTimes.push(r.inProcess);
    tsboxWall.push(r.wall);
  } else {
    const r = timeTsbox(script, tarPath, root);
    tsboxTimes.push(r.inProcess);
    tsboxWall.push(r.wall);
    settle();
    tarTimes.push(timeTar(tarPath, gnuDest));
  }
}
// Deleted only at the end: deleting 200 MB trees between runs slows down whatever runs next.
for (let i = 0; i < runs; i++) {
  rmSync(join(work, `gnu-${i}`), { recursive: true, force: true });
  rmSync(join(work, `state-${i}`), { recursive: true, force: true });
}

const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
console.log(`GNU tar  (wall, ms):                  median ${median(tarTimes).toFixed(0)}  [${fmt(tarTimes)}]`);
console.log(`tsbox    (prepareImage, ms):          median ${median(tsboxTimes).toFixed(0)}  [${fmt(tsboxTimes)}]`);
console.log(`tsbox    (wall incl. node start, ms): median ${median(tsboxWall).toFixed(0)}  [${fmt(tsboxWall)}]`);
console.log(`ratio tsbox/tar: ${(median(tsboxTimes) / median(tarTimes)).toFixed(2)} (prepareImage), ${(median(tsboxWall) / median(tarTimes)).toFixed(2)} (wall)`);
if (!args.includes('--keep')) rmSync(join(work, 'bundle'), { recursive: true, force: true });
