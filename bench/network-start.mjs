#!/usr/bin/env node
// What --network bridge adds to a container's start and teardown: `tsbox run ROOTFS /bin/true`
// with --network none, with --network bridge when it is the bridge's only container (the
// bridge and nft table are made and removed each time), and with --network bridge while a
// detached container keeps the bridge up (the usual case once anything runs). Runs
// alternate so drift in machine load hits all three.
//
//   sudo node bench/network-start.mjs [--runs 30]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 30;
const tsbox = fileURLToPath(new URL('../bin/tsbox', import.meta.url));
const work = mkdtempSync('/var/tmp/tsbox-bench-');
const rootfs = join(work, 'busybox.tar');
const env = { ...process.env, TSBOX_ROOT: join(work, 'root') };

function time(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(tsbox, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`tsbox ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases = {
  none: ['run', '--network', 'none', rootfs, '/bin/true'],
  'bridge, only container': ['run', '--network', 'bridge', rootfs, '/bin/true'],
};
const samples = { none: [], 'bridge, only container': [], 'none (phase 2)': [], 'bridge, bridge already up': [] };
let keeper = null;
try {
  execFileSync(tsbox, ['rootfs', 'from-host', rootfs], { env, stdio: 'ignore' });
  time(cases.none); // warm the cache
  for (let i = 0; i < runs; i++) for (const [name, args] of Object.entries(cases)) samples[name].push(time(args));
  keeper = execFileSync(tsbox, ['run', '-d', '--network', 'bridge', rootfs, 'sleep', '3600'], { env }).toString().trim();
  for (let i = 0; i < runs; i++) {
    samples['none (phase 2)'].push(time(cases.none));
    samples['bridge, bridge already up'].push(time(cases['bridge, only container']));
  }
  // Each bridge case against the none runs interleaved with it.
  const base = { none: 'none', 'bridge, only container': 'none', 'none (phase 2)': 'none (phase 2)', 'bridge, bridge already up': 'none (phase 2)' };
  for (const [name, xs] of Object.entries(samples)) {
    const m = median(xs);
    const d = m - median(samples[base[name]]);
    console.log(`${name.padEnd(28)} median ${m.toFixed(1)} ms  (${d >= 0 ? '+' : ''}${d.toFixed(1)} ms vs its none)  min ${Math.min(...xs).toFixed(1)} max ${Math.max(...xs).toFixed(1)}`);
  }
} finally {
  if (keeper) spawnSync(tsbox, ['rm', '-f', keeper], { env, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
