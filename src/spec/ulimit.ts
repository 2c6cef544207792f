/**
 * --ulimit NAME=SOFT[:HARD], docker's syntax and names (docker run --ulimit, go-units): SOFT
 * alone sets both limits, as docker does; -1 or "unlimited" is no limit; a soft limit above
 * its hard limit is refused here rather than by setrlimit inside the container. Values are
 * in the resource's own unit, as setrlimit takes them (nofile: files, stack: bytes, cpu:
 * seconds). Given twice, the last one counts (docker keeps one per name). Pure.
 */
import { UsageError } from '../errors.js';
import type { RlimitPlan } from '../init/protocol.js';
import { RLIMIT } from '../sys/rlimit-flags.js';

/** docker's --ulimit names (and podman's "as", "data", "rss") -> RLIMIT_* numbers. */
export const ULIMIT_NAMES: Readonly<Record<string, number>> = {
  core: RLIMIT.CORE,
  cpu: RLIMIT.CPU,
  data: RLIMIT.DATA,
  fsize: RLIMIT.FSIZE,
  locks: RLIMIT.LOCKS,
  memlock: RLIMIT.MEMLOCK,
  msgqueue: RLIMIT.MSGQUEUE,
  nice: RLIMIT.NICE,
  nofile: RLIMIT.NOFILE,
  nproc: RLIMIT.NPROC,
  rss: RLIMIT.RSS,
  rtprio: RLIMIT.RTPRIO,
  rttime: RLIMIT.RTTIME,
  sigpending: RLIMIT.SIGPENDING,
  stack: RLIMIT.STACK,
  as: RLIMIT.AS,
};

/** The docker name of an RLIMIT_* number, for messages. */
export function ulimitName(resource: number): string {
  return Object.entries(ULIMIT_NAMES).find(([, n]) => n === resource)?.[0] ?? `resource ${resource}`;
}

const HINT = 'Use --ulimit NAME=SOFT[:HARD], e.g. --ulimit nofile=1024:2048 (-1 or unlimited: no limit).';

export function parseUlimit(text: string): RlimitPlan {
  const bad = (why: string) => new UsageError(`invalid --ulimit '${text}': ${why}`, { hint: HINT });
  const eq = text.indexOf('=');
  if (eq <= 0) throw bad('expected NAME=SOFT[:HARD]');
  const name = text.slice(0, eq);
  const resource = ULIMIT_NAMES[name];
  if (resource === undefined) throw bad(`unknown limit '${name}' (one of ${Object.keys(ULIMIT_NAMES).sort().join(', ')})`);
  const parts = text.slice(eq + 1).split(':');
  if (parts.length > 2) throw bad('expected NAME=SOFT[:HARD]');
  const soft = limitValue(parts[0]!, bad);
  const hard = parts.length === 2 ? limitValue(parts[1]!, bad) : soft;
  if (hard !== 'unlimited' && (soft === 'unlimited' || soft > hard)) throw bad(`the soft limit ${soft} is above the hard limit ${hard}`);
  return { resource, soft, hard };
}

function limitValue(text: string, bad: (why: string) => UsageError): number | 'unlimited' {
  if (text === '-1' || text === 'unlimited') return 'unlimited';
  if (!/^\d+$/.test(text)) throw bad(`'${text}' is not a whole number, -1 or unlimited`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw bad(`${text} is too large (use -1 or unlimited for no limit)`);
  return n;
}

/** Every --ulimit, one per resource, the last given winning, in the order first given. */
export function parseUlimits(texts: readonly string[]): RlimitPlan[] {
  const byResource = new Map<number, RlimitPlan>();
  for (const t of texts) {
    const limit = parseUlimit(t);
    byResource.set(limit.resource, limit);
  }
  return [...byResource.values()];
}
