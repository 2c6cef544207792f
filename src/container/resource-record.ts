/**
 * The container directory's record of what the container holds (<dir>/resources.json),
 * versioned and validated with zod when read: gc acts on it after a crash, so a record it
 * cannot read exactly is refused with one line, never guessed at.
 *
 *   version 2  {version: 2, id, resources: Resource[]}   (container/resources.ts)
 *   version 1  owner.json {id, pid, cgroup}               (tsbox before the container model)
 *              migrated: the directory, then its cgroup if it had one
 *
 * Pure: parse and migrate strings; the I/O is in runtime/container-dir.ts and runtime/gc.ts.
 */
import { z } from 'zod';
import { TsboxError } from '../errors.js';
import { resourceSchema, type Resource } from './resources.js';

export const RESOURCE_RECORD_VERSION = 2;
export const RESOURCE_RECORD_FILE = 'resources.json';
/** The previous version's file, still read so that leftovers of an older tsbox are reclaimed. */
export const OWNER_RECORD_V1_FILE = 'owner.json';

const v2Schema = z.object({ version: z.literal(2), id: z.string().regex(/^[0-9a-f]{64}$/), resources: z.array(resourceSchema) }).strict();
const v1Schema = z.object({ id: z.string(), pid: z.number().int(), cgroup: z.string().startsWith('/').nullable() }).strict();

export interface ResourceRecord {
  version: 2;
  id: string;
  resources: Resource[];
}

export function serializeResourceRecord(record: ResourceRecord): string {
  return `${JSON.stringify(v2Schema.parse(record))}\n`;
}

/** The record of a v2 resources.json; throws one clear line for anything else. */
export function parseResourceRecord(text: string, where: string): ResourceRecord {
  const json = parseJson(text, where);
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== RESOURCE_RECORD_VERSION) {
    throw new TsboxError(`${where} is a version ${JSON.stringify(version ?? null)} record; this tsbox reads version ${RESOURCE_RECORD_VERSION}`, { step: 'read container record', hint: 'It was written by another tsbox version: remove it with the tsbox that made it.' });
  }
  const parsed = v2Schema.safeParse(json);
  if (!parsed.success) throw invalid(where, parsed.error.issues[0]?.message);
  return parsed.data;
}

/** The previous version's owner.json, migrated: its directory, and its cgroup if it recorded one. */
export function migrateOwnerRecordV1(text: string, where: string, dir: string): ResourceRecord {
  const parsed = v1Schema.safeParse(parseJson(text, where));
  if (!parsed.success) throw invalid(where, parsed.error.issues[0]?.message);
  const resources: Resource[] = [{ kind: 'container-dir', path: dir }];
  if (parsed.data.cgroup !== null) resources.push({ kind: 'cgroup', path: parsed.data.cgroup });
  return { version: 2, id: parsed.data.id, resources };
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(where, 'not JSON');
  }
}

function invalid(where: string, why: string | undefined): TsboxError {
  return new TsboxError(`${where} is not a valid container record (${why ?? 'unknown'})`, { step: 'read container record', hint: 'Remove the directory by hand once nothing uses it.' });
}
