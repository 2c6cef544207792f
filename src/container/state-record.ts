/**
 * state.json (runtime/state/record.ts's ContainerRecord) validated when read: `ps`, `rm`,
 * `inspect` and gc act on it, so a record of another version, or a damaged one, is
 * refused with one line naming the file, never read with a bare cast.
 *
 * Version 1 is the format since records existed (labels were added later, optional; the
 * status `creating` later too: a previous tsbox never wrote it, and reads a record in the
 * tree it never looks in, so it cannot misread one).
 */
import { z } from 'zod';
import { TsboxError } from '../errors.js';
import type { ContainerRecord } from '../runtime/state/record.js';

export const STATE_RECORD_VERSION = 1;

const iso = z.string().min(1);
export const stateRecordSchema = z.object({
  version: z.literal(1),
  id: z.string().regex(/^[0-9a-f]{64}$/),
  shortId: z.string().regex(/^[0-9a-f]{12}$/),
  name: z.string().nullable(),
  command: z.array(z.string()),
  rootfs: z.string(),
  imageDigest: z.string().nullable(),
  created: iso,
  startedAt: iso.nullable(),
  finishedAt: iso.nullable(),
  status: z.enum(['creating', 'created', 'running', 'exited']),
  pid: z.number().int().positive().nullable(),
  ownerPid: z.number().int().positive().nullable(),
  exitCode: z.number().int().nullable(),
  oomKilled: z.boolean(),
  error: z.string().nullable(),
  detached: z.boolean(),
  keep: z.boolean(),
  tty: z.boolean(),
  init: z.boolean(),
  cgroup: z.string().nullable(),
  labels: z.record(z.string()).optional(),
  /** Published ports (-p) and the container's address, once it runs; absent before networking. */
  ports: z.array(z.object({ proto: z.string(), hostIp: z.string().optional(), hostPort: z.number().int(), containerPort: z.number().int() })).optional(),
  ip: z.string().nullable().optional(),
});

export function parseStateRecord(text: string, where: string): ContainerRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TsboxError(`${where} is not a valid container record (not JSON)`, { step: 'read container record', hint: 'Remove its directory once nothing uses it.' });
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== STATE_RECORD_VERSION) {
    throw new TsboxError(`${where} is a version ${JSON.stringify(version ?? null)} record; this tsbox reads version ${STATE_RECORD_VERSION}`, { step: 'read container record', hint: 'Use the tsbox that wrote it to remove it.' });
  }
  const parsed = stateRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TsboxError(`${where} is not a valid container record (${issue?.path.join('.')}: ${issue?.message})`, { step: 'read container record', hint: 'Remove its directory once nothing uses it.' });
  }
  return parsed.data as ContainerRecord;
}
