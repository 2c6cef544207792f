/**
 * The processes of a running container, for `tsbox top`: every process in its cgroup
 * (and below: the container may make groups of its own), plus any in its PID namespace,
 * so execs are included. Without ps options, the columns come from /proc (columns.ts);
 * with them, the host's ps runs with those options and its rows are filtered by PID, as
 * docker does.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { isRunning, label } from '../control.js';
import type { StateStore } from '../state/store.js';
import { filterPsOutput, formatTop, passwdNames, topRow, TOP_HEADER } from './columns.js';

const CLK_TCK = 100;

export function containerTop(store: StateStore, ref: string, psArgs: readonly string[]): string {
  const r = store.resolve(ref);
  if (!isRunning(store, r)) throw new UsageError(`container ${label(r)} is not running`, { hint: "See 'tsbox ps -a'." });
  const pids = containerPids(r.pid!, r.cgroup);
  if (psArgs.length > 0) {
    let out: string;
    try {
      out = execFileSync('ps', [...psArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stderr?: string; code?: string };
      if (e.code === 'ENOENT') throw new UsageError('top with ps options needs the host\'s ps (procps)', { hint: 'Install procps, or run tsbox top without options.' });
      throw new UsageError(`ps ${psArgs.join(' ')} failed: ${(e.stderr ?? '').trim().split('\n')[0] ?? ''}`, { hint: 'Give options your ps accepts, e.g. tsbox top NAME aux.' });
    }
    const filtered = filterPsOutput(out, pids);
    if (filtered === null) throw new UsageError(`ps ${psArgs.join(' ')} printed no PID column`, { hint: 'Include pid in the output, e.g. -o pid,args.' });
    return filtered;
  }
  const bootTime = Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);
  const names = passwdNames(readOr('/etc/passwd'));
  const host = { bootTime, hz: CLK_TCK, now: new Date(), userName: (uid: number) => names.get(uid) ?? null };
  const rows = [...pids]
    .sort((a, b) => a - b)
    .map((pid) => topRow({ pid, stat: readOr(`/proc/${pid}/stat`), status: readOr(`/proc/${pid}/status`), cmdline: readOr(`/proc/${pid}/cmdline`) }, host))
    .filter((row): row is string[] => row !== null);
  return formatTop(TOP_HEADER, rows);
}

function containerPids(initPid: number, cgroup: string | null): Set<number> {
  const pids = new Set<number>();
  if (cgroup) for (const pid of cgroupPids(cgroup)) pids.add(pid);
  const ns = nsOf(initPid);
  if (ns !== null) {
    for (const name of readdirSync('/proc')) {
      if (/^\d+$/.test(name) && nsOf(Number(name)) === ns) pids.add(Number(name));
    }
  }
  pids.add(initPid);
  // Gone since we listed them: /proc has no stat for them any more, topRow drops them.
  return pids;
}

function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  for (const pid of readOr(join(dir, 'cgroup.procs')).split('\n')) if (/^\d+$/.test(pid)) out.push(Number(pid));
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    // gone
  }
  for (const child of children) out.push(...cgroupPids(join(dir, child)));
  return out;
}

function nsOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
