#!/usr/bin/env node
// The memory of detached containers' monitors: starts N `tsbox run -d ROOTFS sleep`
// containers (warm cache), waits for the monitors to settle, and reports each monitor's
// RSS and PSS from /proc/PID/smaps_rollup, split into anonymous and file-backed pages,
// then the same after another wait (an idle monitor should not grow back).
//
//   sudo node bench/monitor-memory.mjs [--containers 5] [--settle 3] [--idle 30]
//
// PSS divides each shared page among the processes mapping it, so it depends on what
// else runs on the host (every node process shares the node binary's pages). Nothing is
// written to the repository: the state root and the rootfs are removed at the end.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) || dflt : dflt;
};
const containers = arg('--containers', 5);
const settleS = arg('--settle', 3);
const idleS = arg('--idle', 30);
const tsbox = fileURLToPath(new URL('../bin/tsbox', import.meta.url));
const work = mkdtempSync('/var/tmp/tsbox-bench-');
const root = join(work, 'root');
const rootfs = join(work, 'busybox.tar');
// The user's NODE_OPTIONS or NODE_EXTRA_CA_CERTS would slow the tsbox commands down; the
// monitors get a clean environment whatever this one holds.
const env = { PATH: process.env.PATH, TSBOX_ROOT: root };
const cli = (...args) => execFileSync(tsbox, args, { env, encoding: 'utf8' });

/** kB figures of one process, from smaps_rollup. */
function memoryOf(pid) {
  const kb = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m) kb[m[1]] = Number(m[2]);
  }
  return { rss: kb.Rss, pss: kb.Pss, anon: kb.Anonymous, file: kb.Rss - kb.Anonymous, pssFile: kb.Pss_File ?? kb.Pss - kb.Pss_Anon };
}

const mb = (kb) => (kb / 1024).toFixed(1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function report(title, pids) {
  const rows = pids.map(memoryOf);
  console.log(`\n${title}`);
  console.log('  monitor   RSS MB   PSS MB   anon MB   file MB (RSS)   file MB (PSS)');
  rows.forEach((r, i) => console.log(`  ${String(pids[i]).padEnd(8)}  ${mb(r.rss).padStart(6)}   ${mb(r.pss).padStart(6)}   ${mb(r.anon).padStart(7)}   ${mb(r.file).padStart(13)}   ${mb(r.pssFile).padStart(13)}`));
  const m = (k) => mb(median(rows.map((r) => r[k])));
  console.log(`  median    ${m('rss').padStart(6)}   ${m('pss').padStart(6)}   ${m('anon').padStart(7)}   ${m('file').padStart(13)}   ${m('pssFile').padStart(13)}`);
}

const names = Array.from({ length: containers }, (_, i) => `bench-monitor-${process.pid}-${i}`);
try {
  cli('rootfs', 'from-host', rootfs);
  cli('run', rootfs, '/bin/true'); // warm the extraction cache: the monitors measured do no extraction
  for (const name of names) cli('run', '-d', '--name', name, rootfs, 'sleep', '3600');
  const pids = names.map((n) => JSON.parse(cli('inspect', n))[0].ownerPid);
  await sleep(settleS * 1000);
  report(`${containers} idle monitors, ${settleS} s after start`, pids);
  await sleep(idleS * 1000);
  report(`the same, ${settleS + idleS} s after start`, pids);
  const node = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  console.log(`\nnode ${node}, ${process.arch}; RSS counts every resident page; PSS divides shared ones among their users.`);
} finally {
  try {
    cli('rm', '-f', ...names);
  } catch (err) {
    console.error(`cleanup: ${err.message}`);
  }
  rmSync(work, { recursive: true, force: true });
}
