/**
 * Parsers for the docker-style flag syntaxes (-e, --env-file, -v, --tmpfs, --hostname).
 * Pure: each returns a value or throws a UsageError naming the flag and the fix.
 */
import { posix } from 'node:path';
import { UsageError } from '../errors.js';
import { MS } from '../sys/mount-flags.js';
import type { TmpfsMount } from '../mounts/plan.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** "-e K=V" sets, "-e K" copies K from tsbox's own environment (dropped if unset), as docker does. */
export function parseEnvAssignment(entry: string, hostEnv: Record<string, string | undefined>, flag = '-e'): string | null {
  const eq = entry.indexOf('=');
  const name = eq < 0 ? entry : entry.slice(0, eq);
  if (!ENV_NAME.test(name)) {
    throw new UsageError(`invalid ${flag} '${entry}': '${name}' is not a valid variable name`, { hint: 'Use NAME=VALUE, e.g. -e LANG=C.UTF-8.' });
  }
  if (eq >= 0) return entry;
  const value = hostEnv[name];
  return value === undefined ? null : `${name}=${value}`;
}

/** An --env-file: one NAME=VALUE (or NAME) per line; blank lines and # comments are skipped. */
export function parseEnvFile(text: string, file: string, hostEnv: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    try {
      const entry = parseEnvAssignment(line.trimStart(), hostEnv, '--env-file');
      if (entry !== null) out.push(entry);
    } catch (err) {
      throw new UsageError(`invalid --env-file ${file} line ${i + 1}: '${line}' is not NAME=VALUE`, { hint: 'Each line must be NAME=VALUE, NAME, a # comment or blank.', cause: err });
    }
  });
  return out;
}

/** Later assignments of a name replace earlier ones, keeping the first position (docker's order). */
export function mergeEnv(...lists: string[][]): string[] {
  const byName = new Map<string, string>();
  for (const entry of lists.flat()) {
    const name = entry.slice(0, entry.indexOf('=') < 0 ? entry.length : entry.indexOf('='));
    byName.set(name, entry);
  }
  return [...byName.values()];
}

export interface VolumeSpec {
  source: string;
  target: string;
  readOnly: boolean;
}

/** -v HOST:CONTAINER[:ro|rw] */
export function parseVolume(spec: string): VolumeSpec {
  const parts = spec.split(':');
  const bad = (why: string) => new UsageError(`invalid -v '${spec}': ${why}`, { hint: 'Use -v /host/path:/container/path[:ro], both paths absolute.' });
  if (parts.length < 2 || parts.length > 3) throw bad('expected HOST:CONTAINER or HOST:CONTAINER:ro');
  const [source, target, mode = 'rw'] = parts as [string, string, string?];
  if (!source.startsWith('/')) throw bad(`host path '${source}' is not absolute (named volumes are not supported)`);
  if (!target.startsWith('/')) throw bad(`container path '${target}' is not absolute`);
  if (mode !== 'ro' && mode !== 'rw') throw bad(`unknown option '${mode}' (expected ro or rw)`);
  const normalized = posix.normalize(target);
  if (normalized === '/') throw bad('cannot mount over the container\'s root directory');
  return { source: posix.normalize(source), target: normalized, readOnly: mode === 'ro' };
}

const TMPFS_FLAG_OPTIONS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  noexec: { set: MS.NOEXEC },
  exec: { clear: MS.NOEXEC },
  nosuid: { set: MS.NOSUID },
  suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV },
  dev: { clear: MS.NODEV },
};
const TMPFS_DATA_OPTIONS = /^(size|mode|uid|gid|nr_inodes|nr_blocks)=[A-Za-z0-9%]+$/;

/** --tmpfs PATH[:opt,...], docker's defaults: noexec, nosuid, nodev. */
export function parseTmpfs(spec: string): TmpfsMount {
  const colon = spec.indexOf(':');
  const target = colon < 0 ? spec : spec.slice(0, colon);
  const options = colon < 0 ? [] : spec.slice(colon + 1).split(',').filter(Boolean);
  const bad = (why: string) => new UsageError(`invalid --tmpfs '${spec}': ${why}`, { hint: 'Use --tmpfs /path or --tmpfs /path:size=64m,mode=1777,exec.' });
  if (!target.startsWith('/') || posix.normalize(target) === '/') throw bad('the path must be absolute and not /');
  let flags = MS.NOEXEC | MS.NOSUID | MS.NODEV;
  const data: string[] = [];
  for (const opt of options) {
    const flag = TMPFS_FLAG_OPTIONS[opt];
    if (flag) flags = (flags | (flag.set ?? 0)) & ~(flag.clear ?? 0);
    else if (TMPFS_DATA_OPTIONS.test(opt)) data.push(opt);
    else throw bad(`unknown option '${opt}'`);
  }
  return { target: posix.normalize(target), flags, data: data.join(',') };
}

/** A hostname the kernel accepts and resolvers understand: RFC 1123 labels, at most 64 bytes. */
export function checkHostname(name: string): string {
  const label = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  if (name.length === 0 || name.length > 64 || !name.split('.').every((l) => label.test(l))) {
    throw new UsageError(`invalid --hostname '${name}': expected letters, digits and hyphens (dot-separated labels, at most 64 characters)`, {
      hint: 'For example --hostname build-42.',
    });
  }
  return name;
}
