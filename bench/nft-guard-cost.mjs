#!/usr/bin/env node
// What the route_localnet guard rule costs per packet, in its two orders: a download from a
// tsbox container straight to its address, profiled (perf, cpu-clock), while an extra table
// of this bench's own holds a copy of the guard chain: none / `iifname @bridges` first (the
// old order) / `ip daddr 127.0.0.0/8` first (tsbox's order). Counted: samples of curl, httpd
// and ksoftirqd, and those of them inside nft_do_chain. Variants alternate within each round.
//
//   sudo node bench/nft-guard-cost.mjs [--mib 256] [--rounds 20]
//
// Needs perf. The extra chain's set holds a name no link has: it drops nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { numberArg, TSBOX, workspace } from './common.mjs';

const mib = numberArg('--mib', 256);
const rounds = numberArg('--rounds', 20);
const { work, rootfs, env } = workspace();
const table = `tsbguardbench${process.pid % 100000}`;
const RULES = {
  none: null,
  'iifname first (old)': 'iifname @bridges ip daddr 127.0.0.0/8 counter drop',
  'daddr first (tsbox)': 'ip daddr 127.0.0.0/8 iifname @bridges counter drop',
};
const SERVE = `head -c ${mib * 1024 * 1024} /dev/zero > /www/blob && exec httpd -f -p 8000 -h /www`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function setVariant(rule) {
  spawnSync('nft', ['delete', 'table', 'ip', table], { stdio: 'ignore' });
  if (!rule) return;
  const text = `table ip ${table} {
  set bridges { type ifname; elements = { "tsbgbnone0" }; }
  chain guard {
    type filter hook prerouting priority raw; policy accept;
    ${rule}
  }
}
`;
  execFileSync('nft', ['-f', '-'], { input: text });
}

/** One profiled download: [samples of the transfer's tasks, of those inside nft_do_chain]. */
function profiled(url) {
  const data = join(work, 'perf.data');
  execFileSync('perf', ['record', '-q', '-o', data, '-e', 'cpu-clock', '-F', '4000', '-a', '-g', '--', 'curl', '-sS', '--fail', '-o', '/dev/null', url], { stdio: 'ignore' });
  const out = execFileSync('perf', ['script', '-i', data, '-F', 'comm,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  let total = 0;
  let nft = 0;
  for (const stack of out.split('\n\n')) {
    const [head, ...frames] = stack.split('\n');
    if (!/curl|httpd|ksoftirqd/.test(head ?? '')) continue;
    total++;
    if (frames.some((f) => f.trim().endsWith(' nft_do_chain'))) nft++;
  }
  return [total, nft];
}

let id;
try {
  execFileSync(TSBOX, ['rootfs', 'from-host', rootfs], { env, stdio: 'ignore' });
  id = execFileSync(TSBOX, ['run', '-d', '--tmpfs', '/www:size=1g', rootfs, 'sh', '-c', SERVE], { env, encoding: 'utf8' }).trim();
  const ip = JSON.parse(execFileSync(TSBOX, ['inspect', id], { env, encoding: 'utf8' }))[0].ip;
  const url = `http://${ip}:8000/blob`;
  for (let i = 0; i < 300 && spawnSync('curl', ['-sS', '--fail', '-o', '/dev/null', '-r', '0-0', url]).status !== 0; i++) spawnSync('sleep', ['0.1']);
  const samples = Object.fromEntries(Object.keys(RULES).map((k) => [k, { total: [], nft: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, rule] of Object.entries(RULES)) {
      setVariant(rule);
      const [total, nft] = profiled(url);
      samples[name].total.push(total);
      samples[name].nft.push(nft);
    }
  }
  console.log(`direct download of ${mib} MiB, perf cpu-clock 4 kHz, medians of ${rounds} rounds; samples of curl/httpd/ksoftirqd, and inside nft_do_chain (every table's chains)`);
  const base = median(samples.none.nft);
  for (const [name, s] of Object.entries(samples)) {
    const n = median(s.nft);
    console.log(`extra guard chain: ${name.padEnd(20)} total ${median(s.total)}  nft_do_chain ${n}  (${n - base >= 0 ? "+" : ""}${n - base} over none)`);
  }
} finally {
  spawnSync('nft', ['delete', 'table', 'ip', table], { stdio: 'ignore' });
  if (id) spawnSync(TSBOX, ['rm', '-f', id], { env, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
