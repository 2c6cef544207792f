/**
 * tsbox-runtime's pure parts: config.json's reading (the local adapter), mount options,
 * namespaces, cgroupsPath, v1-shaped resources, signals, security from config.json.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, planCgroup, planLimits, planMountSteps, planNamespaces, planSecurity, rootPath, type OciConfig } from '../../src/oci/runtime/config-adapter.js';
import { parseMountOptions } from '../../src/oci/runtime/mount-options.js';
import { parseSignal } from '../../src/oci/runtime/signal-arg.js';
import { CLONE } from '../../src/sys/process-flags.js';
import { MS } from '../../src/sys/mount-flags.js';

const base = {
  ociVersion: '1.0.2',
  process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' },
  root: { path: 'rootfs' },
  linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }] },
};
const config = (patch: object = {}): OciConfig => parseConfig(JSON.stringify({ ...base, ...patch }));

describe('parseConfig', () => {
  it('names the first wrong field', () => {
    expect(() => parseConfig(JSON.stringify({ ...base, process: { ...base.process, args: 'sh' } }))).toThrow(/invalid config.json: process.args: Expected array/);
    expect(() => parseConfig('{')).toThrow(/config.json is not valid JSON/);
    expect(() => parseConfig(JSON.stringify({ ...base, process: { ...base.process, cwd: 'rel' } }))).toThrow(/process.cwd: must be an absolute path/);
  });
});

describe('planNamespaces', () => {
  it('makes new ones and joins those given by path', () => {
    const ns = planNamespaces(config({ linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'network', path: '/run/netns/x' }, { type: 'cgroup' }] } }));
    expect(ns.unshare).toBe(CLONE.NEWNS | CLONE.NEWPID);
    expect(ns.join).toEqual([{ path: '/run/netns/x', flag: CLONE.NEWNET, type: 'network' }]);
    expect(ns.newNet).toBe(false);
    expect(ns.cgroup).toBe(true);
  });
  it('refuses user and unknown namespaces, a missing mount namespace, id mappings', () => {
    expect(() => planNamespaces(config({ linux: { namespaces: [{ type: 'mount' }, { type: 'user' }] } }))).toThrow(/namespace type 'user' is not supported/);
    expect(() => planNamespaces(config({ linux: { namespaces: [{ type: 'mount' }, { type: 'time' }] } }))).toThrow(/'time'/);
    expect(() => planNamespaces(config({ linux: { namespaces: [{ type: 'pid' }] } }))).toThrow(/no new mount namespace/);
    expect(() => planNamespaces(config({ linux: { namespaces: [{ type: 'mount' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] } }))).toThrow(/mappings are not supported/);
  });
});

describe('rootPath', () => {
  it('takes absolute paths and relative ones inside the bundle', () => {
    expect(rootPath(config({ root: { path: '/var/lib/x/merged' } }), '/b')).toBe('/var/lib/x/merged');
    expect(rootPath(config(), '/b')).toBe('/b/rootfs');
    expect(() => rootPath(config({ root: { path: '../outside' } }), '/b')).toThrow(/leads outside the bundle/);
  });
});

describe('planCgroup and planLimits', () => {
  it('splits cgroupsPath into parent and name; refuses the systemd form', () => {
    expect(planCgroup(config({ linux: { ...base.linux, cgroupsPath: '/libpod_parent/libpod-abc' } }), 'abc')).toEqual({ parent: 'libpod_parent', name: 'libpod-abc' });
    expect(planCgroup(config(), 'abc')).toEqual({ parent: 'tsbox-runtime', name: 'abc' });
    expect(() => planCgroup(config({ linux: { ...base.linux, cgroupsPath: 'system.slice:libpod:abc' } }), 'abc')).toThrow(/systemd cgroupsPath/);
    expect(() => planCgroup(config({ linux: { ...base.linux, cgroupsPath: '/a/../b' } }), 'abc')).toThrow(/invalid cgroupsPath/);
  });
  it('translates v1-shaped resources; shares alone is no limit', () => {
    const limits = planLimits(config({ linux: { ...base.linux, resources: { memory: { limit: 1 << 20 }, cpu: { shares: 1024, quota: 50000, period: 100000 }, pids: { limit: 2048 } } } }));
    expect(limits).toEqual({ memoryMax: 1 << 20, cpuMax: { quotaUs: 50000, periodUs: 100000 }, pidsMax: 2048 });
    expect(planLimits(config({ linux: { ...base.linux, resources: { cpu: { shares: 2 }, pids: { limit: 0 } } } }))).toEqual({});
  });
});

describe('planMountSteps', () => {
  it('binds, mounts, default devices after /dev, a cgroup2 view for type cgroup, masks', () => {
    const steps = planMountSteps(config({
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755'] },
        { destination: '/etc/hosts', type: 'bind', source: '/tmp/hosts', options: ['rbind', 'ro', 'nosuid'] },
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] },
      ],
      linux: { ...base.linux, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
    }), () => false);
    expect(steps[0]).toEqual({ op: 'mount', fstype: 'proc', source: 'proc', target: '/proc', flags: 0, create: 'dir' });
    expect(steps[1]).toEqual({ op: 'mount', fstype: 'tmpfs', source: 'tmpfs', target: '/dev', flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755', create: 'dir' });
    expect(steps.slice(2).filter((s) => s.op === 'mknod').map((s) => s.target)).toEqual(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
    expect(steps).toContainEqual({ op: 'symlink', target: '/dev/ptmx', linkTo: 'pts/ptmx' });
    expect(steps).toContainEqual({ op: 'bind', source: '/tmp/hosts', target: '/etc/hosts', readOnly: true, create: 'file', flags: MS.NOSUID });
    expect(steps).toContainEqual({ op: 'mount', fstype: 'cgroup2', source: 'cgroup2', target: '/sys/fs/cgroup', flags: MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, create: 'dir' });
    expect(steps.slice(-2)).toEqual([{ op: 'mask', target: '/proc/kcore' }, { op: 'readonly', target: '/proc/sys' }]);
  });
});

describe('planSecurity', () => {
  it('takes the sets of config.json as they are; ambient only where the kernel allows it', () => {
    const plan = planSecurity(config({ process: { ...base.process, capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], ambient: ['CAP_KILL'] }, noNewPrivileges: true } }));
    expect(plan.capabilities).toEqual({ bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: [], ambient: [] });
    expect(plan.noNewPrivileges).toBe(true);
    expect(plan.seccomp).toBeNull();
  });
  it('compiles linux.seccomp (the OCI profile format)', () => {
    const plan = planSecurity(config({ linux: { ...base.linux, seccomp: { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] } } }), '6.1.0');
    expect(plan.seccomp?.rules).toBe(1);
    expect(plan.seccomp?.source).toBe('config.json');
  });
});

describe('options and signals', () => {
  it('parseMountOptions', () => {
    expect(parseMountOptions(['rbind', 'ro', 'nodev', 'rprivate', 'mode=755', 'size=1k'])).toEqual({ flags: MS.RDONLY | MS.NODEV, bind: true, data: 'mode=755,size=1k' });
  });
  it('parseSignal', () => {
    expect(parseSignal(undefined)).toBe(15);
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('sigusr1')).toBe(10);
    expect(() => parseSignal('NOPE')).toThrow(/invalid signal/);
    expect(() => parseSignal('0')).toThrow(/invalid signal/);
  });
});
