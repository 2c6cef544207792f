/**
 * `update --resources FILE|-`: new limits for a running container's group, from the
 * runtime-spec's linux.resources shape (v1-shaped, as engines send it), through the same
 * translation as create. A limit this host's cgroup v2 group cannot take is refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planCgroupFiles } from '../../cgroups/index.js';
import { TsboxError, UsageError } from '../../errors.js';
import { parseConfig, planLimits } from './config-adapter.js';
import type { StateRoot } from './state-dir.js';

export function updateResources(state: StateRoot, id: string, source: string): void {
  const r = state.read(id);
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code}`, { step: 'update' });
  }
  let resources: unknown;
  try {
    resources = JSON.parse(text);
  } catch {
    throw new UsageError('--resources is not JSON', { step: 'update' });
  }
  // The same reading as config.json's linux.resources (config-adapter.ts), in a minimal config around it.
  const config = parseConfig(JSON.stringify({ ociVersion: '1.0.2', process: { user: { uid: 0, gid: 0 }, args: ['x'], cwd: '/' }, root: { path: '/' }, linux: { resources } }));
  const writes = planCgroupFiles(planLimits(config));
  if (writes.length === 0) return;
  if (!r.cgroup) throw new TsboxError(`container ${id} has no cgroup`, { step: 'update' });
  const available = new Set(readFileSync(join(r.cgroup, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean));
  for (const w of writes) {
    if (!available.has(w.controller)) throw new UsageError(`cannot set ${w.file}: the ${w.controller} controller is not available to cgroup v2 on this host`, { step: 'update', hint: 'On a hybrid host the controllers belong to cgroup v1, which tsbox never writes.' });
  }
  for (const w of writes) writeFileSync(join(r.cgroup, w.file), w.value);
}
