/**
 * The commands that only read or describe: state, list, ps, features, spec.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsboxError, UsageError } from '../../errors.js';
import { groupPids } from './lifecycle.js';
import type { StateRoot } from './state-dir.js';
import { statusOf } from './status.js';
import { VERSION } from './version.js';
import { defaultOciSpec, ociFeatures } from '../spec/index.js';

export { stateJson } from './status.js';

export function listText(state: StateRoot, format: string): string {
  const rows = state.list().flatMap((id) => {
    try {
      const r = state.read(id);
      return [{ id, pid: r.pid, status: statusOf(state, r), bundle: r.bundle, created: r.created, owner: 'root' }];
    } catch {
      return [];
    }
  });
  if (format === 'json') return JSON.stringify(rows.map((r) => ({ ...r, pid: r.status === 'stopped' ? 0 : r.pid })));
  const lines = ['ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER', ...rows.map((r) => `${r.id}\t${r.status === 'stopped' ? 0 : r.pid}\t${r.status}\t${r.bundle}\t${r.created}\t${r.owner}`)];
  return lines.join('\n');
}

export function psText(state: StateRoot, id: string, format: string): string {
  const r = state.read(id);
  const pids = r.cgroup ? groupPids(r.cgroup) : statusOf(state, r) === 'stopped' ? [] : [r.pid];
  if (format === 'json') return JSON.stringify(pids);
  return ['PID', ...pids.map(String)].join('\n');
}

/** The runtime-spec's features document (features.md): what this tsbox-runtime understands. */
export function featuresJson(): string {
  return JSON.stringify(ociFeatures(VERSION), null, 2);
}

/** `spec`: a default config.json in the bundle directory (runc's shape: sh in ./rootfs). */
export function writeDefaultSpec(bundle: string): string {
  const path = join(resolve(bundle), 'config.json');
  if (existsSync(path)) throw new UsageError(`${path} already exists`, { step: 'spec', hint: 'Remove it first.' });
  try {
    writeFileSync(path, `${JSON.stringify(defaultOciSpec(), null, 2)}\n`, { flag: 'wx' });
  } catch (err) {
    throw new TsboxError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code}`, { step: 'spec' });
  }
  return path;
}
