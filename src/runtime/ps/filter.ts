/**
 * `ps --filter KEY=VALUE`, as docker decides (moby daemon/list.go):
 *   id=PREFIX        the full id starts with it
 *   name=REGEXP      the name matches (unanchored, as docker's regexp match)
 *   status=STATE     creating | created | running | exited (docker's other states never happen here);
 *                    a status filter shows stopped containers without -a, as docker does
 *   label=KEY, label=KEY=VALUE
 * Values of one key are ORed (name=a --filter name=b: either), different keys ANDed,
 * except label: every label filter must match (docker's MatchKVList), so
 * `--filter label=a --filter label=b` means both labels.
 * Pure: parsed once (bad filters fail before anything is listed), then matched per record.
 */
import { UsageError } from '../../errors.js';
import type { ContainerRecord, ContainerStatus } from '../state/record.js';

export interface PsFilters {
  id: string[];
  name: RegExp[];
  status: ContainerStatus[];
  label: { key: string; value: string | null }[];
}

/** docker's valid states (the ones tsbox never reaches match nothing), and OCI's creating. */
const DOCKER_STATES = ['creating', 'created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'] as const;

export function parseFilters(texts: readonly string[]): PsFilters {
  const f: PsFilters = { id: [], name: [], status: [], label: [] };
  for (const text of texts) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid --filter '${text}': expected KEY=VALUE`, { hint: 'For example --filter status=running or --filter label=env=ci.' });
    const key = text.slice(0, eq);
    const value = text.slice(eq + 1);
    switch (key) {
      case 'id':
        if (!/^[0-9a-f]*$/.test(value)) throw new UsageError(`invalid --filter '${text}': an id is hexadecimal`);
        f.id.push(value);
        break;
      case 'name':
        try {
          f.name.push(new RegExp(value));
        } catch {
          throw new UsageError(`invalid --filter '${text}': not a regular expression`);
        }
        break;
      case 'status':
        if (!(DOCKER_STATES as readonly string[]).includes(value)) {
          throw new UsageError(`invalid --filter '${text}': unknown status`, { hint: `Use one of ${DOCKER_STATES.join(', ')}.` });
        }
        f.status.push(value as ContainerStatus);
        break;
      case 'label': {
        const at = value.indexOf('=');
        if (value === '' || at === 0) throw new UsageError(`invalid --filter '${text}': expected label=KEY or label=KEY=VALUE`);
        f.label.push(at < 0 ? { key: value, value: null } : { key: value.slice(0, at), value: value.slice(at + 1) });
        break;
      }
      default:
        throw new UsageError(`invalid --filter '${text}': unknown filter '${key}'`, { hint: 'tsbox ps filters on id, name, status and label.' });
    }
  }
  return f;
}

/** A status filter lists stopped containers without -a (moby sets All for it). */
export function filtersImplyAll(f: PsFilters): boolean {
  return f.status.length > 0;
}

export function matchesFilters(r: Pick<ContainerRecord, 'id' | 'name' | 'status' | 'labels'>, f: PsFilters): boolean {
  if (f.id.length > 0 && !f.id.some((p) => r.id.startsWith(p))) return false;
  if (f.name.length > 0 && !f.name.some((re) => re.test(r.name ?? ''))) return false;
  if (f.status.length > 0 && !f.status.includes(r.status)) return false;
  const labels = r.labels ?? {};
  for (const l of f.label) {
    if (!Object.hasOwn(labels, l.key)) return false;
    if (l.value !== null && labels[l.key] !== l.value) return false;
  }
  return true;
}
