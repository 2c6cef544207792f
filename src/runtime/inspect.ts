/**
 * What `tsbox inspect` and the API's inspect() show of a container: its record, its state
 * directory and log, its live mounts, and its spec with the security plan spelled out.
 */
import { readFileSync } from 'node:fs';
import { describeSecurityPlan } from '../security/index.js';
import { readConfigFile } from '../container/config-file.js';
import type { RunSpec } from '../spec/run-spec.js';
import { dockerModes } from '../namespaces/modes.js';
import type { ContainerRecord } from './state/record.js';
import type { StateStore } from './state/store.js';

export interface MountInfo {
  target: string;
  type: string;
  source: string;
  options: string;
}

export interface ContainerDetails extends ContainerRecord {
  stateDir: string;
  /** The container's log (container.log, rotated beside it), when it keeps one. */
  log: string | null;
  mounts: MountInfo[];
  spec: (Omit<RunSpec, 'security'> & { security: ReturnType<typeof describeSecurityPlan> }) | null;
  /** docker's names for the namespace modes (namespaces/modes.ts dockerModes); null without a spec. */
  HostConfig: { NetworkMode: string; PidMode: string; IpcMode: string; UTSMode: string; CgroupnsMode: string } | null;
}

export function inspectContainer(store: StateStore, ref: string): ContainerDetails {
  const r = store.resolve(ref);
  const paths = store.paths(r.shortId);
  const spec = readSpec(paths.spec);
  return {
    ...r,
    stateDir: paths.dir,
    log: r.keep ? paths.log : null,
    mounts: r.status === 'running' && r.pid ? liveMounts(r.pid) : [],
    spec: spec ? { ...spec, security: describeSecurityPlan(spec.security) } : null,
    HostConfig: spec ? { NetworkMode: networkMode(spec.network.mode), ...dockerModes(spec.namespaces) } : null,
  };
}

function networkMode(m: RunSpec['network']['mode']): string {
  return m.kind === 'container' ? `container:${m.name}` : m.kind === 'bridge' ? (m.user ? m.network : 'bridge') : m.kind;
}

/** null when the container has no config file (a record from before configs were kept); a bad one throws. */
function readSpec(path: string): RunSpec | null {
  try {
    return readConfigFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** What is mounted in the container, from its PID 1's mountinfo: target, type, source, options. */
function liveMounts(pid: number): MountInfo[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
  } catch {
    return [];
  }
  return text.trim().split('\n').map((line) => {
    const [left, right = ''] = line.split(' - ');
    const f = left!.split(' ');
    const [type = '', source = ''] = right.split(' ');
    return { target: f[4] ?? '', type, source, options: f[5] ?? '' };
  });
}
