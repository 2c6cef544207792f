/**
 * The bridges from an OCI plan to the shapes tsbox's current executors take: namespaces
 * for the spawner, the cgroup's parent and name, the device policy target (same rules as
 * the plan's), an exec's security plan.
 */
import { describe, expect, it } from 'vitest';
import { devicePolicyRules } from '../../src/devices/policy.js';
import { CLONE } from '../../src/sys/process-flags.js';
import {
  execSecurityPlan, failIn, parseOciConfig, parseOciProcess, planProcess, toCgroupParentName, toDevicePolicyTarget, toTsboxNamespaces, toUserSpec, translateOciConfig,
  type OciContainerPlan,
} from '../../src/oci/spec/index.js';
import { everythingExists, fixture } from './oci-spec-helpers.js';

function plan(name: string, change?: (c: Record<string, any>) => void, systemdCgroup = false): OciContainerPlan {
  const json = fixture(name);
  change?.(json);
  return translateOciConfig(parseOciConfig(json), { bundle: '/b', probe: everythingExists, systemdCgroup });
}

describe('toTsboxNamespaces', () => {
  it('podman: new pid/ipc/uts/mount, its netns joined', () => {
    const ns = toTsboxNamespaces(plan('podman-4.3-run-d'));
    expect(ns).toMatchObject({ unshare: CLONE.NEWPID | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS, newNet: false, newUts: true, cgroup: false, unsupported: [] });
    expect(ns.join).toEqual([{ path: expect.stringMatching(/^\/run\/netns\//), flag: CLONE.NEWNET, type: 'network' }]);
  });
  it('a new cgroup namespace is apart; one joined by path is unsupported', () => {
    const ns = toTsboxNamespaces(plan('runc-spec', (c) => { c.linux.namespaces.push({ type: 'cgroup' }); }));
    expect(ns.cgroup).toBe(true);
    expect(ns.unshare & CLONE.NEWCGROUP).toBe(0);
    expect(toTsboxNamespaces(plan('runc-spec', (c) => { c.linux.namespaces.push({ type: 'cgroup', path: '/proc/9/ns/cgroup' }); })).unsupported).toEqual(['linux.namespaces (cgroup, /proc/9/ns/cgroup): joining a cgroup namespace by path']);
  });
});

describe('toCgroupParentName', () => {
  const opts = { defaultParent: 'tsbox-runtime', id: 'c1' };
  it('each form of cgroupsPath', () => {
    expect(toCgroupParentName({ kind: 'default' }, opts)).toEqual({ parent: 'tsbox-runtime', name: 'c1' });
    expect(toCgroupParentName({ kind: 'path', path: '/k8s.io/abc' }, opts)).toEqual({ parent: 'k8s.io', name: 'abc' });
    expect(toCgroupParentName({ kind: 'path', path: '/top' }, opts)).toEqual({ parent: '', name: 'top' });
    expect(toCgroupParentName({ kind: 'relative', path: 'a/b' }, opts)).toEqual({ parent: 'tsbox-runtime/a', name: 'b' });
    expect(toCgroupParentName(plan('runc-spec', (c) => { c.linux.cgroupsPath = 'system.slice:libpod:c1'; }, true).cgroup.path, opts)).toEqual({ parent: 'system.slice', name: 'libpod-c1.scope' });
  });
});

describe('toDevicePolicyTarget', () => {
  it('applyDevicePolicy\'s rules are exactly the plan\'s', () => {
    for (const name of ['podman-4.3-flags', 'containerd-1.6-k8s-pod-container', 'runc-spec']) {
      const p = plan(name);
      const target = toDevicePolicyTarget(p);
      expect(devicePolicyRules(target.devices, target.privileged)).toEqual(p.devices.rules);
    }
  });
  it('allow all: privileged, no program', () => {
    const p = plan('runc-spec', (c) => { c.linux.resources.devices = [{ allow: true, access: 'rwm' }]; });
    const target = toDevicePolicyTarget(p);
    expect(target.privileged).toBe(true);
    expect(devicePolicyRules(target.devices, target.privileged)).toBeNull();
  });
});

describe('exec', () => {
  it('the exec\'s own capabilities and no_new_privs, the container\'s seccomp filter', () => {
    const container = plan('podman-4.3-run-d');
    const proc = planProcess(parseOciProcess({ user: { uid: 1000, gid: 100 }, args: ['id'], cwd: '/', capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] }, noNewPrivileges: true }), failIn('process.json'), [], '');
    const sec = execSecurityPlan(container, proc);
    expect(sec.capabilities).toEqual({ bounding: ['CAP_KILL'], effective: ['CAP_KILL'], inheritable: [], permitted: ['CAP_KILL'], ambient: [] });
    expect(sec.noNewPrivileges).toBe(true);
    expect(sec.seccomp).toBe(container.security.seccomp);
    expect(toUserSpec(proc)).toBe('1000:100');
  });
});
