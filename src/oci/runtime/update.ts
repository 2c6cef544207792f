/**
 * `update --resources FILE|-`: new limits for a running container's group, from the
 * runtime-spec's linux.resources shape (v1-shaped, as engines send it), through src/oci/spec's
 * translation, the writes made as they are. A limit this host's cgroup v2 group cannot take is refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsboxError, UsageError } from '../../errors.js';
import { failIn, parseOciResources, planResources } from '../spec/index.js';
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
  const writes = planResources(parseOciResources(resources, 'resources'), failIn('resources'), '', { forNewGroup: false }).writes;
  if (writes.length === 0) return;
  if (!r.cgroup) throw new TsboxError(`container ${id} has no cgroup`, { step: 'update' });
  const available = new Set(readFileSync(join(r.cgroup, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean));
  for (const w of writes) {
    if (w.controller !== null && !available.has(w.controller)) throw new UsageError(`cannot set ${w.file} (${w.source}): the ${w.controller} controller is not available to cgroup v2 on this host`, { step: 'update', hint: 'On a hybrid host the controllers belong to cgroup v1, which tsbox never writes.' });
  }
  for (const w of writes) {
    try {
      writeFileSync(join(r.cgroup, w.file), w.value);
    } catch (err) {
      // io.bfq.weight without BFQ: the plan's fallback (io.weight).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !w.fallback) throw new TsboxError(`cannot write ${w.file} = ${w.value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { step: 'update' });
      writeFileSync(join(r.cgroup, w.fallback.file), w.fallback.value);
    }
  }
}
