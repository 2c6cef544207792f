/**
 * What tsbox records about a container (state.json), and the pure decisions made from
 * it: which record a NAME/ID/prefix means, whether a record's owner is gone, how `ps`
 * shows a status. No I/O here, so all of it is unit-tested.
 */
import { UsageError } from '../../errors.js';

/**
 * docker's words, and OCI's `creating`: written before the container acquires anything, so
 * that a create that dies midway leaves a record that ps shows and gc reclaims.
 */
export type ContainerStatus = 'creating' | 'created' | 'running' | 'exited';

export interface ContainerRecord {
  version: 1;
  id: string;
  shortId: string;
  name: string | null;
  command: string[];
  /** The rootfs as given (absolute path or "-"), and the cache entry it was extracted to. */
  rootfs: string;
  imageDigest: string | null;
  /** ISO dates. */
  created: string;
  startedAt: string | null;
  finishedAt: string | null;
  status: ContainerStatus;
  /** Host pid of the container's PID 1 while it runs. */
  pid: number | null;
  /** Host pid of the process that waits for it: the foreground tsbox, or a detached container's monitor. */
  ownerPid: number | null;
  exitCode: number | null;
  oomKilled: boolean;
  /** Why the container ended abnormally (setup failed, its owner was killed). */
  error: string | null;
  detached: boolean;
  /** Kept after it exits (-d or --name), until `tsbox rm`; else removed with the run. */
  keep: boolean;
  tty: boolean;
  init: boolean;
  cgroup: string | null;
  /** --label KEY=VALUE (docker's container labels); absent in records written before labels existed. */
  labels?: Record<string, string>;
  /** Published ports (-p), once the container runs; absent in records written before networking. */
  ports?: PublishedPort[];
  /** The container's address on its network (null with --network none, host, container:). */
  ip?: string | null;
}

export interface PublishedPort {
  proto: string;
  hostIp?: string;
  hostPort: number;
  containerPort: number;
}

/** docker's rendering: "0.0.0.0:8080->80/tcp, 127.0.0.1:8081->80/tcp". */
export function formatPorts(ports: readonly PublishedPort[] | undefined): string {
  return (ports ?? []).map((p) => `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ');
}

export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function checkName(name: string, what = '--name'): string {
  if (!NAME_PATTERN.test(name) || name.length > 128) {
    throw new UsageError(`invalid ${what} '${name}': use letters, digits, '_', '.' and '-', starting with a letter or digit`, { hint: 'For example web-1.' });
  }
  return name;
}

/**
 * Which container a reference means, as docker decides: an exact name first, then an
 * exact id (full or short), then a unique id prefix.
 */
export function resolveRef<T extends Pick<ContainerRecord, 'id' | 'name'>>(ref: string, records: readonly T[]): T {
  if (ref === '') throw new UsageError('empty container name or id');
  const byName = records.find((r) => r.name === ref);
  if (byName) return byName;
  const byId = records.find((r) => r.id === ref);
  if (byId) return byId;
  const matches = /^[0-9a-f]+$/.test(ref) ? records.filter((r) => r.id.startsWith(ref)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new UsageError(`'${ref}' matches ${matches.length} containers`, { hint: 'Give more characters of the id, or the name.' });
  }
  throw new UsageError(`no such container: ${ref}`, { hint: "See 'tsbox ps -a'." });
}

export function nameTaken(name: string, records: readonly Pick<ContainerRecord, 'name' | 'id'>[]): boolean {
  return records.some((r) => r.name === name);
}

/** A record whose owner no longer holds its lock died with its owner (the init's PDEATHSIG): it is over. */
export function markOwnerGone(record: ContainerRecord, now: Date): ContainerRecord {
  if (record.status === 'exited') return record;
  return {
    ...record,
    status: 'exited',
    pid: null,
    exitCode: record.exitCode ?? 137,
    finishedAt: record.finishedAt ?? now.toISOString(),
    error: record.error ?? 'its tsbox process (or monitor) was killed; the container was killed with it',
  };
}

/** "Up 3 minutes", "Exited (0) 5 seconds ago", "Created". */
export function describeStatus(record: ContainerRecord, now: Date): string {
  switch (record.status) {
    case 'creating':
      return 'Creating';
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now.getTime() - Date.parse(record.startedAt ?? record.created))}`;
    case 'exited':
      return `Exited (${record.exitCode ?? '?'}) ${humanDuration(now.getTime() - Date.parse(record.finishedAt ?? record.created))} ago`;
  }
}

export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'}`;
  const d = Math.round(h / 24);
  return `${d} days`;
}

/** The `ps` table: fixed columns, like docker's. */
export function formatPsTable(records: readonly ContainerRecord[], now: Date): string {
  // PORTS only when some container publishes one: the table stays as it was for the rest.
  const withPorts = records.some((r) => (r.ports ?? []).length > 0);
  const rows = [['CONTAINER ID', 'NAME', 'COMMAND', 'CREATED', 'STATUS', 'PID', ...(withPorts ? ['PORTS'] : [])]];
  for (const r of records) {
    const command = JSON.stringify(r.command.join(' '));
    rows.push([
      r.shortId,
      r.name ?? '',
      command.length > 32 ? `${command.slice(0, 30)}…"` : command,
      `${humanDuration(now.getTime() - Date.parse(r.created))} ago`,
      describeStatus(r, now),
      r.pid === null ? '' : String(r.pid),
      ...(withPorts ? [formatPorts(r.ports)] : []),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n');
}
