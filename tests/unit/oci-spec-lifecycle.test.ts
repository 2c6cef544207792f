/**
 * Hooks (when, where, with what), the state JSON, `features` and `spec`.
 */
import { describe, expect, it } from 'vitest';
import { ALL_CAPABILITIES } from '../../src/security/capabilities.js';
import {
  HOOK_PHASES, OCI_VERSION, OciSpecError, buildOciState, defaultOciSpec, failIn, formatOciState, hookRun, knownMountOptions, ociFeatures,
  hookStdin, parseOciConfig, parseOciProcess, planHooks, planProcess, statusOf, translateOciConfig,
} from '../../src/oci/spec/index.js';
import { fixture } from './oci-spec-helpers.js';

const fail = failIn('config.json');

describe('hooks', () => {
  it('the phases in lifecycle order, each with its namespace, status and failure rule', () => {
    expect(HOOK_PHASES.map((p) => [p.phase, p.operation, p.namespace, p.status, p.onFailure])).toEqual([
      ['prestart', 'create', 'runtime', 'creating', 'error'],
      ['createRuntime', 'create', 'runtime', 'creating', 'error'],
      ['createContainer', 'create', 'container', 'creating', 'error'],
      ['startContainer', 'start', 'container', 'created', 'error'],
      ['poststart', 'start', 'runtime', 'running', 'warn'],
      ['poststop', 'delete', 'runtime', 'stopped', 'warn'],
    ]);
  });

  it('argv defaults to [path], env to empty, timeout to none; prestart warns as deprecated', () => {
    const warnings: string[] = [];
    const plan = planHooks({
      prestart: [{ path: '/usr/bin/old' }],
      createRuntime: [{ path: '/usr/bin/netsetup', args: ['netsetup', '--add'], env: ['A=1'], timeout: 5 }],
      poststop: [{ path: '/bin/cleanup' }, { path: '/bin/cleanup2' }],
    }, fail, warnings);
    expect(plan.createRuntime).toEqual([{ path: '/usr/bin/netsetup', args: ['netsetup', '--add'], env: ['A=1'], timeoutSeconds: 5 }]);
    expect(plan.prestart).toEqual([{ path: '/usr/bin/old', args: ['/usr/bin/old'], env: [], timeoutSeconds: null }]);
    expect(plan.poststop.map((h) => h.path)).toEqual(['/bin/cleanup', '/bin/cleanup2']);
    expect(plan.startContainer).toEqual([]);
    expect(warnings).toEqual(['hooks.prestart is deprecated in the runtime-spec; tsbox runs them just before createRuntime']);
    expect(hookRun(plan, 'poststop').info.status).toBe('stopped');
  });

  it('a relative path, a zero timeout, an env entry without = : refused', () => {
    const errorOf = (hooks: object) => {
      try { planHooks(hooks, fail, []); } catch (err) { expect(err).toBeInstanceOf(OciSpecError); return (err as Error).message; }
      throw new Error('expected an error');
    };
    expect(errorOf({ poststart: [{ path: 'bin/x' }] })).toBe("config.json: hooks.poststart[0].path: 'bin/x' is not an absolute path");
    expect(errorOf({ createContainer: [{ path: '/x', timeout: 0 }] })).toBe('config.json: hooks.createContainer[0].timeout: must be a positive number of seconds');
    expect(errorOf({ startContainer: [{ path: '/x', env: ['X'] }] })).toBe("config.json: hooks.startContainer[0].env[0]: 'X' is not NAME=VALUE");
  });
});

describe('state JSON', () => {
  it('created and running carry the pid; stopped does not', () => {
    expect(buildOciState({ id: 'c1', status: 'created', pid: 4242, bundle: '/b', annotations: { a: 'b' } })).toEqual({ ociVersion: OCI_VERSION, id: 'c1', status: 'created', pid: 4242, bundle: '/b', annotations: { a: 'b' } });
    expect(buildOciState({ id: 'c1', status: 'stopped', pid: 4242, bundle: '/b' })).toEqual({ ociVersion: OCI_VERSION, id: 'c1', status: 'stopped', bundle: '/b' });
    expect(buildOciState({ id: 'c1', status: 'creating', pid: null, bundle: '/b', annotations: {} })).toEqual({ ociVersion: OCI_VERSION, id: 'c1', status: 'creating', bundle: '/b' });
    expect(buildOciState({ id: 'c1', status: 'paused', pid: 7, bundle: '/b' }).pid).toBe(7);
  });
  it('the record\'s docker words become OCI\'s', () => {
    expect(statusOf('exited')).toBe('stopped');
    expect(statusOf('running')).toBe('running');
  });
  it('a running container without a pid is a bug, not a state', () => {
    expect(() => buildOciState({ id: 'c1', status: 'running', pid: null, bundle: '/b' })).toThrow(/must have a pid/);
  });
  it('formats as runc prints it, or one line for a hook', () => {
    const s = buildOciState({ id: 'c1', status: 'running', pid: 1, bundle: '/b' });
    expect(formatOciState(s)).toBe(`{"ociVersion":"${OCI_VERSION}","id":"c1","status":"running","pid":1,"bundle":"/b"}`);
    expect(formatOciState(s, true)).toBe(`${JSON.stringify(s, null, 2)}\n`);
  });
});

describe('features', () => {
  const f = ociFeatures('0.1.0');
  const runc = fixture('runc-1.1-features');

  it('has the shape of runc\'s', () => {
    for (const key of Object.keys(runc)) expect(f).toHaveProperty(key);
    for (const key of Object.keys(runc.linux)) expect(f.linux).toHaveProperty(key);
  });
  it('says what tsbox does: v2 only, no systemd, no AppArmor/SELinux, x86_64 seccomp, no user namespaces', () => {
    expect(f.linux.cgroup).toMatchObject({ v1: false, v2: true, systemd: false });
    expect(f.linux.apparmor.enabled).toBe(false);
    expect(f.linux.selinux.enabled).toBe(false);
    expect(f.linux.namespaces).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
    expect(f.linux.seccomp.archs).toEqual(['SCMP_ARCH_X86_64']);
    expect(f.linux.seccomp.actions).not.toContain('SCMP_ACT_NOTIFY');
    expect(f.hooks).toEqual(runc.hooks);
    expect(f.linux.capabilities).toEqual(ALL_CAPABILITIES);
  });
  it('every mount option runc lists that is a flag or propagation is known to tsbox', () => {
    const mine = new Set(knownMountOptions());
    // runc lists filesystem data options (acl, iversion...) too: those pass through as data in tsbox.
    const missing = (runc.mountOptions as string[]).filter((o) => !mine.has(o));
    expect(missing.every((o) => !/^(r?(private|shared|slave|unbindable)|r?bind|ro|rw|nosuid|nodev|noexec)$/.test(o))).toBe(true);
  });
});

describe('spec (the default config.json)', () => {
  it('has runc spec\'s shape and translates into a plan', () => {
    const mine = defaultOciSpec();
    const runc = fixture('runc-spec');
    expect(Object.keys(mine).sort()).toEqual(Object.keys(runc).sort());
    const plan = translateOciConfig(parseOciConfig(mine), { bundle: '/b', probe: { kind: () => 'dir' } });
    expect(plan.root).toMatchObject({ path: '/b/rootfs', readOnly: true });
    expect(plan.process.args).toEqual(['sh']);
    expect(plan.process.terminal).toBe(true);
    expect(plan.namespaces.created).toContain('cgroup');
    expect(plan.mounts.find((m) => m.target === 'sys/fs/cgroup')?.op).toBe('cgroup');
    expect(plan.warnings).toEqual([]);
  });
});

describe('a hook\'s stdin and exec --process', () => {
  it('the state with the phase\'s status', () => {
    expect(JSON.parse(hookStdin('createRuntime', { id: 'c1', pid: 99, bundle: '/b', annotations: { k: 'v' } }))).toEqual({ ociVersion: OCI_VERSION, id: 'c1', status: 'creating', pid: 99, bundle: '/b', annotations: { k: 'v' } });
    expect(JSON.parse(hookStdin('poststop', { id: 'c1', pid: 99, bundle: '/b' }))).toEqual({ ociVersion: OCI_VERSION, id: 'c1', status: 'stopped', bundle: '/b' });
  });
  it('exec --process: the document is the process; errors name its own paths', () => {
    const warnings: string[] = [];
    const p = planProcess(parseOciProcess({ user: { uid: 1000, gid: 1000 }, args: ['sh'], cwd: '/tmp', terminal: true, env: ['A=1'] }), failIn('process.json'), warnings, '');
    expect(p).toMatchObject({ args: ['sh'], cwd: '/tmp', terminal: true, user: { uid: 1000, gid: 1000, additionalGids: [], umask: null } });
    expect(() => planProcess(parseOciProcess({ user: { uid: 0, gid: 0 }, args: [], cwd: '/' }), failIn('process.json'), warnings, '')).toThrow('process.json: args: is empty: there is no command to run');
    expect(() => planProcess(parseOciProcess({ user: { uid: 0, gid: 0 }, args: ['x'], cwd: '/', rlimits: [{ type: 'RLIMIT_X', soft: 1, hard: 1 }] }), failIn('process.json'), warnings, '')).toThrow(/^process\.json: rlimits\[0\]\.type: unknown rlimit/);
  });
});
