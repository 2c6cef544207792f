/**
 * tsbox-runtime called directly on bundles, as an engine would: the lifecycle
 * (create -> created, held; start -> running; kill; delete), run, and bad bundles, each of
 * which must give exactly one error (stderr and the --log JSON file), a non-zero status,
 * and leave nothing (no state entry, no cgroup).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRuntime, removeRuntimeScratch, runtimeScratch, cgroupsNamed, RUNTIME_BIN } from '../helpers/oci-engines.js';

let dir: string;
let stateRoot: string;
let logFile: string;
let ids = 0;

beforeAll(() => {
  ({ dir, stateRoot } = runtimeScratch('tsbox-oci-bundles-'));
  logFile = join(dir, 'log.json');
});

afterAll(() => removeRuntimeScratch(dir, stateRoot));

const runtime = (args: string[]) => callRuntime(dir, ['--root', stateRoot, '--log', logFile, '--log-format', 'json'], args);

/** A bundle whose config.json is `spec`'s default, changed by `patch`; the rootfs is shared. */
function bundle(patch: (c: Record<string, any>) => void = () => {}): string {
  const b = join(dir, `bundle-${++ids}`);
  mkdirSync(b);
  expect(runtime(['spec', '--bundle', b]).code).toBe(0);
  const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  config.root.path = join(dir, 'rootfs');
  config.process.terminal = false;
  patch(config);
  writeFileSync(join(b, 'config.json'), JSON.stringify(config));
  return b;
}

function logErrors(): { level: string; msg: string }[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
}

describe('the lifecycle', () => {
  it('create holds the init before exec; start runs it; kill; delete leaves nothing', () => {
    const b = bundle((c) => (c.process.args = ['sh', '-c', 'echo ran > /tmp/ran; exec sleep 300']));
    const pidFile = join(b, 'pid');
    const id = `life-${process.pid}`;
    expect(runtime(['create', '--bundle', b, '--pid-file', pidFile, id]).code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    let state = JSON.parse(runtime(['state', id]).stdout);
    expect(state).toMatchObject({ id, status: 'created', pid, bundle: b });
    // Held: nothing of the command has run.
    expect(existsSync(join(dir, 'rootfs/tmp/ran'))).toBe(false);
    expect(runtime(['start', id]).code).toBe(0);
    state = JSON.parse(runtime(['state', id]).stdout);
    expect(state.status).toBe('running');
    expect(runtime(['ps', '--format', 'json', id]).stdout.trim()).toBe(`[${pid}]`);
    expect(runtime(['list', '--format', 'json']).stdout).toContain(`"id":"${id}"`);
    expect(runtime(['delete', id]).stderr).toMatch(/not stopped: running/);
    // exec as runc reads it: flags before the id, and the command's own flags after it; `--` optional.
    const e = runtime(['exec', id, 'sh', '-c', 'echo $((6*7)); exit 6']);
    expect([e.code, e.stdout, e.stderr]).toEqual([6, '42\n', '']);
    expect(runtime(['exec', id, '--', 'sh', '-c', 'exit 7']).code).toBe(7);
    // update: a limit this host's cgroup v2 cannot hold is refused, naming the controller; "no limit" needs none.
    writeFileSync(join(b, 'res.json'), JSON.stringify({ pids: { limit: 100 } }));
    const u = runtime(['update', '--resources', join(b, 'res.json'), id]);
    if (!readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').includes('pids')) {
      expect(u.code).not.toBe(0);
      expect(u.stderr).toMatch(/the pids controller is not available to cgroup v2 on this host/);
    }
    // pause/resume: the group frozen as the kernel says, then thawed.
    expect(runtime(['pause', id]).code).toBe(0);
    expect(JSON.parse(runtime(['state', id]).stdout).status).toBe('paused');
    expect(runtime(['resume', id]).code).toBe(0);
    expect(JSON.parse(runtime(['state', id]).stdout).status).toBe('running');
    expect(runtime(['kill', '--all', id, 'KILL']).code).toBe(0);
    for (let i = 0; i < 1000 && JSON.parse(runtime(['state', id]).stdout).status !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    expect(JSON.parse(runtime(['state', id]).stdout)).toMatchObject({ status: 'stopped', pid: 0 });
    const k = runtime(['kill', id]);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toContain('container not running');
    expect(runtime(['delete', id]).code).toBe(0);
    expect(readdirSync(stateRoot)).toEqual([]);
    expect(cgroupsNamed([id])).toEqual([]);
    const gone = runtime(['state', id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('does not exist');
    expect(runtime(['kill', id]).stderr).toContain('does not exist');
    rmSync(join(dir, 'rootfs/tmp/ran'), { force: true });
  });

  it('run passes the exit status on; a created container is deleted without --force', () => {
    const r = runtime(['run', '--bundle', bundle((c) => (c.process.args = ['sh', '-c', 'exit 42'])), `run-${process.pid}`]);
    expect(r.code).toBe(42);
    const id = `held-${process.pid}`;
    expect(runtime(['create', '--bundle', bundle(), id]).code).toBe(0);
    expect(runtime(['delete', id]).code).toBe(0);
    expect(readdirSync(stateRoot)).toEqual([]);
    expect(cgroupsNamed([id])).toEqual([]);
  });

  it('the systemd cgroup manager is refused clearly: one line naming the fix, nothing created', () => {
    for (const flags of [['--systemd-cgroup'], ['--cgroup-manager', 'systemd']]) {
      const b = bundle();
      const r = spawnSync(RUNTIME_BIN, ['--root', stateRoot, ...flags, 'create', '--bundle', b, '--pid-file', join(b, 'pid'), 'sd'], { encoding: 'utf8' });
      expect(r.status, flags.join(' ')).toBe(125);
      expect(r.stderr, flags.join(' ')).toBe('tsbox-runtime: cgroup: the systemd cgroup manager is not supported. Use the cgroupfs manager (podman --cgroup-manager cgroupfs; containerd SystemdCgroup = false).\n');
      expect(existsSync(join(b, 'pid'))).toBe(false);
      expect(existsSync(stateRoot) ? readdirSync(stateRoot) : []).toEqual([]);
      expect(cgroupsNamed(['sd'])).toEqual([]);
    }
  });

  it('features and spec', () => {
    const f = JSON.parse(runtime(['features']).stdout);
    expect(f.linux.namespaces).toContain('pid');
    expect(f.linux.cgroup).toMatchObject({ v1: false, v2: true });
  });
});

describe('bad bundles: one error (stderr and log), non-zero, nothing created', () => {
  const cases: [string, () => string, RegExp][] = [
    ['missing config.json', () => {
      const b = join(dir, `empty-${++ids}`);
      mkdirSync(b);
      return b;
    }, /no config.json in the bundle/],
    ['invalid JSON', () => {
      const b = bundle();
      writeFileSync(join(b, 'config.json'), '{"ociVersion": ');
      return b;
    }, /config.json: invalid JSON/],
    ['a field of the wrong type', () => bundle((c) => (c.process.args = 'sh')), /config.json: process.args: expected an array of strings/],
    ['a root path outside the bundle', () => bundle((c) => (c.root.path = '../../etc')), /root.path: '..\/..\/etc' leads out of the bundle/],
    ['a mount destination escaping through a symlink in the rootfs', () => {
      const link = join(dir, 'rootfs/escape');
      if (!existsSync(link)) symlinkSync('../../../../../../tmp', link);
      return bundle((c) => c.mounts.push({ destination: '/escape/x', type: 'tmpfs', source: 'tmpfs' }));
    }, /mount destination \/escape\/x escapes the root through the symlink \/escape/],
    ['an unsupported namespace', () => bundle((c) => c.linux.namespaces.push({ type: 'user' })), /user namespaces \(and uid\/gid mappings\) are not supported.*\. Run the container without a user namespace: podman as root without --userns/],
    // Refused with the fix on the engine's side, before anything exists.
    ['uid mappings', () => bundle((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }), /linux\.uidMappings: uid\/gid mappings need a user namespace.*\. Run the container without a user namespace: podman as root without --userns, --uidmap or --gidmap/],
    ['gid mappings', () => bundle((c) => (c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }])), /linux\.gidMappings: uid\/gid mappings need a user namespace.*\. Run the container without a user namespace/],
    ['a systemd cgroupsPath (slice:prefix:name) without the systemd manager', () => bundle((c) => (c.linux.cgroupsPath = 'system.slice:libpod:abc')), /linux\.cgroupsPath: 'system\.slice:libpod:abc' looks like systemd's SLICE:PREFIX:NAME\. The engine uses the systemd cgroup manager, which tsbox-runtime does not support: configure its cgroupfs manager/],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      const b = make();
      rmSync(logFile, { force: true });
      const id = `bad-${ids}`;
      const r = runtime(['create', '--bundle', b, '--pid-file', join(b, 'pid'), id]);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      const errors = logErrors();
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toMatch(message);
      expect(existsSync(join(b, 'pid'))).toBe(false);
      expect(existsSync(stateRoot) ? readdirSync(stateRoot) : []).toEqual([]);
      expect(cgroupsNamed([id])).toEqual([]);
    });
  }
});
