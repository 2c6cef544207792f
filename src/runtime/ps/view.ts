/**
 * What `ps --format` templates see of a container: docker's field names and renderings
 * (docker/cli's ContainerContext), computed from the record. Pure.
 */
import { describeStatus, formatPorts, humanDuration, type ContainerRecord } from '../state/record.js';
import type { TemplateRow } from './template.js';

/** Field -> table header, as docker prints them. Pid is tsbox's own (the host pid of PID 1). */
export const PS_FIELD_HEADERS: Readonly<Record<string, string>> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Status: 'STATUS',
  State: 'STATE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Ports: 'PORTS',
  Networks: 'NETWORKS',
  Pid: 'PID',
};

export interface ViewOptions {
  /** docker's default: ids cut to 12, commands to 20 characters. --no-trunc keeps them whole. */
  trunc: boolean;
  /** Volume targets, from the spec (null when it could not be read). */
  mounts?: readonly string[];
}

export function psRow(r: ContainerRecord, now: Date, opts: ViewOptions): TemplateRow {
  const labels = r.labels ?? {};
  const command = r.command.join(' ');
  const fields: Record<string, string> = {
    ID: opts.trunc ? r.shortId : r.id,
    Names: r.name ?? '',
    Image: r.rootfs,
    Command: JSON.stringify(opts.trunc ? ellipsis(command, 20) : command),
    CreatedAt: goTimeString(new Date(r.created)),
    RunningFor: `${humanDuration(now.getTime() - Date.parse(r.created))} ago`,
    Status: describeStatus(r, now),
    State: r.status,
    Labels: Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(','),
    Mounts: (opts.mounts ?? []).join(','),
    Ports: formatPorts(r.ports),
    Networks: '',
    Pid: r.pid === null ? '' : String(r.pid),
  };
  // {{json .}}: docker's keys, every value a string.
  const json = Object.fromEntries(Object.keys(fields).sort().map((k) => [k, fields[k]]));
  return { fields, labels, json };
}

/** docker's Ellipsis: at most n characters, the last one an ellipsis when cut. */
export function ellipsis(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join('')}…`;
}

/** Go's time.Time.String() in UTC: "2006-01-02 15:04:05 +0000 UTC". */
export function goTimeString(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}
