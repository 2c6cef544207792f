import { describe, expect, it } from 'vitest';
import { ALLOWED, assertCan, can, statusOf, type Operation, type Status } from '../../src/container/status.js';
import { releaseAll, withResource, type Releasers, type Resource } from '../../src/container/resources.js';
import { migrateOwnerRecordV1, parseResourceRecord, serializeResourceRecord } from '../../src/container/resource-record.js';

const ID = 'a'.repeat(64);
const STATUSES: Status[] = ['creating', 'created', 'running', 'stopped'];

describe('status transitions', () => {
  it('follows OCI: start only from created, kill from created or running, delete from created or stopped', () => {
    const table = (op: Operation) => STATUSES.filter((s) => can(op, s));
    expect(table('start')).toEqual(['created']);
    expect(table('kill')).toEqual(['created', 'running']);
    expect(table('delete')).toEqual(['created', 'stopped']);
    expect(table('exec')).toEqual(['running']);
  });

  it('deletes from any status with force', () => {
    for (const s of STATUSES) expect(can('delete', s, { force: true })).toBe(true);
  });

  it('refuses with one line that names the status, and a hint', () => {
    expect(() => assertCan('exec', 'created', 'web')).toThrow(/cannot exec container web: it is created/);
    expect(() => assertCan('start', 'running', 'web')).toThrow(/it is running/);
    expect(() => assertCan('start', 'created', 'web')).not.toThrow();
  });

  it("reads the record's docker words as OCI's", () => {
    expect(statusOf('exited')).toBe('stopped');
    expect(statusOf('created')).toBe('created');
    expect(Object.keys(ALLOWED).sort()).toEqual(['delete', 'exec', 'kill', 'restart', 'start', 'wait']);
  });
});

function recording(fail: Resource['kind'][] = []): { releasers: Releasers; released: string[] } {
  const released: string[] = [];
  const rec = (r: Resource) => {
    released.push(r.kind);
    if (fail.includes(r.kind)) throw new Error(`${r.kind} busy`);
  };
  return { released, releasers: { 'container-dir': rec, cgroup: rec, overlay: rec, process: rec } };
}

const HELD: Resource[] = [
  { kind: 'container-dir', path: '/r/containers/x' },
  { kind: 'overlay', upper: '/r/containers/x/upper', work: '/r/containers/x/work' },
  { kind: 'cgroup', path: '/sys/fs/cgroup/tsbox/x' },
  { kind: 'process', role: 'init', pid: 42, startTime: '1234' },
];

describe('resource release', () => {
  it('releases by kind in reverse order of acquisition', async () => {
    const { releasers, released } = recording();
    expect(await releaseAll(HELD, releasers)).toEqual([]);
    expect(released).toEqual(['process', 'cgroup', 'overlay', 'container-dir']);
  });

  it('goes on past a failing release and reports it', async () => {
    const { releasers, released } = recording(['cgroup']);
    const failures = await releaseAll(HELD, releasers);
    expect(released).toEqual(['process', 'cgroup', 'overlay', 'container-dir']);
    expect(failures.map((f) => [f.resource.kind, f.error.message])).toEqual([['cgroup', 'cgroup busy']]);
  });

  it('records an entry once', () => {
    const once = withResource(HELD, { kind: 'cgroup', path: '/sys/fs/cgroup/tsbox/x' });
    expect(once).toEqual(HELD);
    expect(withResource(HELD, { kind: 'cgroup', path: '/sys/fs/cgroup/other' })).toHaveLength(5);
  });
});

describe('resource record on disk', () => {
  it('round-trips version 2', () => {
    const text = serializeResourceRecord({ version: 2, id: ID, resources: HELD });
    expect(parseResourceRecord(text, 'r.json')).toEqual({ version: 2, id: ID, resources: HELD });
  });

  it("migrates the previous version's owner.json: the directory, then its cgroup", () => {
    const v1 = JSON.stringify({ id: ID, pid: 99, cgroup: '/sys/fs/cgroup/tsbox/x' });
    expect(migrateOwnerRecordV1(v1, 'owner.json', '/r/containers/x').resources).toEqual([
      { kind: 'container-dir', path: '/r/containers/x' },
      { kind: 'cgroup', path: '/sys/fs/cgroup/tsbox/x' },
    ]);
    expect(migrateOwnerRecordV1(JSON.stringify({ id: ID, pid: 99, cgroup: null }), 'owner.json', '/d').resources).toEqual([{ kind: 'container-dir', path: '/d' }]);
  });

  it('refuses another version, an unknown kind or a relative path with one line, never a guess', () => {
    expect(() => parseResourceRecord(JSON.stringify({ version: 3, id: ID, resources: [] }), 'r.json')).toThrow(/r.json is a version 3 record; this tsbox reads version 2/);
    expect(() => parseResourceRecord(JSON.stringify({ version: 2, id: ID, resources: [{ kind: 'veth', name: 'x' }] }), 'r.json')).toThrow(/not a valid container record/);
    expect(() => parseResourceRecord(JSON.stringify({ version: 2, id: ID, resources: [{ kind: 'cgroup', path: 'rel' }] }), 'r.json')).toThrow(/not a valid container record/);
    expect(() => parseResourceRecord('{', 'r.json')).toThrow(/not JSON/);
  });
});

import { parseConfigFile, serializeConfigFile } from '../../src/container/config-file.js';
import { splitRunSpec, type RunSpec } from '../../src/spec/run-spec.js';
import { DEFAULT_NAMESPACE_MODES } from '../../src/namespaces/modes.js';

const SPEC: RunSpec = {
  id: ID, shortId: ID.slice(0, 12), root: '/var/lib/tsbox', rootfs: { source: '/r.tar', readOnly: false, maxSize: 1024, maxEntries: 10 }, hostname: 'h',
  process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', user: null }, volumes: [], tmpfs: [], readOnlyTmpfs: [],
  security: { capabilities: 'all', noNewPrivileges: false, seccomp: null }, privileged: true, devices: { nodes: [], rules: [] },
  cgroup: { parent: undefined, limits: {} as RunSpec['cgroup']['limits'] }, name: 'web', keep: true, tty: false, init: false, labels: {}, logLimits: { maxSize: null, maxFile: 1 },
  namespaces: { pid: { kind: 'container', name: 'db' }, ipc: { kind: 'shareable' }, uts: 'host', cgroupns: 'private', joins: { pid: ID } },
  processSettings: { rlimits: [{ resource: 7, soft: 1, hard: 'unlimited' }], additionalGids: [5], additionalGroupNames: ['audio'], umask: 0o077, oomScoreAdj: -5 },
  sysctl: [{ name: 'kernel.shmmax', value: '1' }],
  report: { stats: false, statsFile: null }, log: { level: 'warn', format: 'text' }, debug: false, openat2: true, stdio: ['inherit', 'inherit', 'inherit'], stateDir: '/run/tsbox', detach: true,
};

describe('container config file', () => {
  it('keeps the config apart from the invocation, and reads both back validated', () => {
    const { config, invocation } = splitRunSpec(SPEC);
    expect(config).not.toHaveProperty('stdio');
    expect(invocation).toEqual({ report: SPEC.report, log: SPEC.log, debug: false, openat2: true, stdio: SPEC.stdio, stateDir: '/run/tsbox', detach: true });
    const { cgroup, ...rest } = parseConfigFile(serializeConfigFile(config, invocation), 'spec.json');
    expect({ ...rest, cgroup: { ...cgroup, parent: undefined } }).toEqual(SPEC);
  });

  it("reads the previous version's bare spec.json", () => {
    expect(parseConfigFile(JSON.stringify(SPEC), 'spec.json').process.args).toEqual(['sh']);
    // A config written before --pid/--ipc/--uts/--cgroupns: every namespace the container's own.
    const { namespaces: _, ...older } = SPEC;
    expect(parseConfigFile(JSON.stringify(older), 'spec.json').namespaces).toEqual(DEFAULT_NAMESPACE_MODES);
    expect(() => parseConfigFile(JSON.stringify({ ...SPEC, namespaces: { ...SPEC.namespaces, uts: 'other' } }), 'spec.json')).toThrow(/spec.json/);
  });

  it('reads a config written before --ulimit, --sysctl and the others as inheriting everything', () => {
    const { processSettings: _p, sysctl: _s, ...before } = SPEC;
    const read = parseConfigFile(JSON.stringify(before), 'spec.json');
    expect(read.processSettings).toEqual({ rlimits: [], additionalGids: [], additionalGroupNames: [], umask: null, oomScoreAdj: null });
    expect(read.sysctl).toEqual([]);
    expect(() => parseConfigFile(JSON.stringify({ ...SPEC, processSettings: { ...SPEC.processSettings, oomScoreAdj: 5000 } }), 'spec.json')).toThrow(/processSettings\.oomScoreAdj/);
  });

  it('refuses a damaged or other-version config with one line', () => {
    expect(() => parseConfigFile(JSON.stringify({ ...SPEC, process: { args: [] } }), 'spec.json')).toThrow(/spec.json is not a valid container config \(process/);
    expect(() => parseConfigFile(JSON.stringify({ version: 5 }), 'spec.json')).toThrow(/version 5 config/);
  });
});
