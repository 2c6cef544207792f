/**
 * `create`'s early init: the init (a second Node) is spawned before create has loaded its
 * code and translated config.json, so that its boot overlaps ours (as `tsbox run`'s early
 * init, namespaces/early-init.ts). What it needs is guessed here from the command line and
 * a plain JSON.parse of config.json: the namespaces it is born in (new, or joined by path)
 * and its stdio (none with process.terminal). create takes it only if the validated plan
 * asks for exactly that (placementKey equal); otherwise it is killed and create spawns its
 * own. A wrong guess costs a process, never a wrong container. Pure but for reading the file.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PLACED } from '../../namespaces/placement.js';

export type PlacedType = 'net' | 'pid' | 'ipc' | 'uts';

export interface EarlyGuess {
  /** Types to unshare, and types joined by path, as config.json lists them. */
  news: PlacedType[];
  joins: { type: PlacedType; path: string }[];
  terminal: boolean;
  key: string;
}

/** runc's global flags that take a value (program.ts): skipped to find the command. */
const VALUED = new Set(['--root', '--log', '--log-format', '--cgroup-manager', '--criu', '--rootless']);
const TYPES: Record<string, PlacedType | undefined> = { network: 'net', pid: 'pid', ipc: 'ipc', uts: 'uts' };

/** The bundle of a `create` command line (runc's flags), or null when it is not one. */
export function createBundle(args: readonly string[]): string | null {
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    if (VALUED.has(args[i]!)) i++;
  }
  if (args[i] !== 'create') return null;
  let bundle = '.';
  for (let j = i + 1; j < args.length; j++) {
    const a = args[j]!;
    if (a === '--bundle' || a === '-b') bundle = args[++j] ?? '.';
    else if (a.startsWith('--bundle=')) bundle = a.slice('--bundle='.length);
  }
  return bundle;
}

/** The key create compares: which types are new, which joined where, and the stdio. */
export function placementKey(news: readonly PlacedType[], joins: readonly { type: PlacedType; path: string }[], terminal: boolean): string {
  return JSON.stringify({ news: [...news].sort(), joins: [...joins].map((j) => `${j.type}=${j.path}`).sort(), terminal });
}

/** The same key from the validated plan's namespaces (spec/to-tsbox.ts), as create places the init. */
export function planKey(ns: { unshare: number; join: readonly { type: string; path: string }[] }, terminal: boolean): string {
  const news = (Object.keys(PLACED) as PlacedType[]).filter((t) => (ns.unshare & PLACED[t]) !== 0);
  const joins = ns.join.flatMap((j) => (TYPES[j.type] ? [{ type: TYPES[j.type]!, path: j.path }] : []));
  return placementKey(news, joins, terminal);
}

/** The guess from config.json as it is on disk; null when anything is unusual (create then spawns as always). */
export function guessFromConfig(text: string): EarlyGuess | null {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return null;
  }
  const c = config as { process?: { terminal?: unknown }; linux?: { namespaces?: unknown } };
  const list = c?.linux?.namespaces;
  if (!Array.isArray(list)) return null;
  const news: PlacedType[] = [];
  const joins: { type: PlacedType; path: string }[] = [];
  for (const n of list as { type?: unknown; path?: unknown }[]) {
    if (typeof n?.type !== 'string') return null;
    const type = TYPES[n.type];
    if (type === undefined) continue; // mount (always new), cgroup (the init's), user (refused later)
    if (typeof n.path === 'string' && n.path !== '') joins.push({ type, path: n.path });
    else news.push(type);
  }
  const terminal = c.process?.terminal === true;
  return { news, joins, terminal, key: placementKey(news, joins, terminal) };
}

export function guessCreate(args: readonly string[]): EarlyGuess | null {
  const bundle = createBundle(args);
  if (bundle === null) return null;
  try {
    return guessFromConfig(readFileSync(join(resolve(bundle), 'config.json'), 'utf8'));
  } catch {
    return null; // create reports it properly
  }
}
