/** tsbox stats [NAME...] [--no-stream] [--format table|json] */
import { Command, Option } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../errors.js';
import { isRunning, label } from '../../runtime/control.js';
import { sampleCgroup, sampleNetwork } from '../../runtime/stats.js';
import { formatStatsTable, statsRow, type StatsRow, type StatsSample } from '../../runtime/stats-table.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

/** --no-stream: CPU % needs two samples; docker waits about this long too. */
const FIRST_INTERVAL_MS = 500;
const STREAM_INTERVAL_MS = 1000;

interface StatsFlags extends CommonOptions {
  stream: boolean;
  format: 'table' | 'json';
}

export function statsCommand(): Command {
  const cmd = new Command('stats')
    .description("live CPU %, memory and pids of running containers, from their cgroups (Ctrl-C to stop)")
    .argument('[container...]', 'names, ids or unique id prefixes (default: every running container)')
    .option('--no-stream', 'print one sample and exit')
    .addOption(new Option('--format <format>', 'table, or json (one object per container per sample)').choices(['table', 'json']).default('table'))
    .action(async (refs: string[], flags: StatsFlags) => {
      const store = storeFor(flags.root);
      const chosen = refs.map((ref) => {
        const r = store.resolve(ref);
        if (!isRunning(store, r)) throw new UsageError(`container ${label(r)} is not running`, { hint: "See 'tsbox ps'." });
        return r;
      });
      const targets = () => (refs.length > 0 ? chosen : store.list().filter((r) => isRunning(store, r)));
      const previous = new Map<string, StatsSample>();
      const sampleAll = async () => {
        const rows: StatsRow[] = [];
        for (const r of targets()) {
          const s = sampleCgroup(r.cgroup);
          const stillRunning = isRunning(store, store.read(r.shortId) ?? r);
          if (!stillRunning && refs.length === 0) continue; // exited meanwhile: it leaves the list
          if (s === null) {
            rows.push({ id: r.id, name: r.name ?? '', cpuPercent: null, memoryBytes: null, memoryLimitBytes: null, memoryPercent: null, netRxBytes: null, netTxBytes: null, pids: null });
            continue;
          }
          rows.push(statsRow(r.id, r.name ?? '', previous.get(r.id) ?? null, s, await sampleNetwork(store.read(r.shortId) ?? r)));
          previous.set(r.id, s);
        }
        return rows;
      };
      const print = (rows: StatsRow[], clear: boolean) => {
        if (flags.format === 'json') for (const row of rows) writeLine(1, JSON.stringify(row));
        else writeLine(1, `${clear ? '\x1b[2J\x1b[H' : ''}${formatStatsTable(rows)}`);
      };
      await sampleAll();
      await sleep(FIRST_INTERVAL_MS);
      print(await sampleAll(), false);
      if (!flags.stream) return;
      // Until Ctrl-C (or SIGTERM): leave quietly, with status 0, as docker does.
      let stop = false;
      const onSignal = () => (stop = true);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const clear = process.stdout.isTTY === true;
      while (!stop) {
        await sleepUnless(STREAM_INTERVAL_MS, () => stop);
        if (!stop) print(await sampleAll(), clear);
      }
    });
  return addCommonOptions(cmd);
}

async function sleepUnless(ms: number, stopped: () => boolean): Promise<void> {
  for (let t = 0; t < ms && !stopped(); t += 50) await sleep(50);
}

