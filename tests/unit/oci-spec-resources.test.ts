/**
 * linux.resources (cgroup v1-shaped, as engines send them) as cgroup v2 writes; cgroupsPath
 * in its path and systemd forms; the device list as tsbox's allow-list.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE_RULES } from '../../src/devices/rules.js';
import { OciSpecError, blkioWeightToIoWeight, expandSlice, failIn, neededControllers, planCgroupsPath, planDeviceNodes, planDevicePolicy, planResources, refuseWithoutDevicePolicy, toCgroupLimits, type OciResources } from '../../src/oci/spec/index.js';

const fail = failIn('config.json');
/** As `update` sees them (every value written); create leaves out a new group's own values (below). */
const writes = (r: OciResources) => planResources(r, fail, 'linux.resources', { forNewGroup: false }).writes.map((w) => `${w.file}=${w.value}`);
const createWrites = (r: OciResources) => planResources(r, fail).writes.map((w) => `${w.file}=${w.value}`);
function errorOf(fn: () => unknown): string {
  try { fn(); } catch (err) { expect(err).toBeInstanceOf(OciSpecError); return (err as Error).message; }
  throw new Error('expected an error');
}

describe('memory', () => {
  it('limit, reservation, and v1\'s memory+swap as v2\'s swap alone', () => {
    expect(writes({ memory: { limit: 512 * 2 ** 20, reservation: 256 * 2 ** 20, swap: 1024 * 2 ** 20 } })).toEqual([
      'memory.low=268435456', 'memory.max=536870912', 'memory.swap.max=536870912',
    ]);
  });
  it('-1 is max; 0 is not set', () => {
    expect(writes({ memory: { limit: -1, swap: -1 } })).toEqual(['memory.max=max', 'memory.swap.max=max']);
    expect(writes({ memory: { limit: 0, swap: 0, reservation: 0 } })).toEqual([]);
  });
  it('swap below the limit, or without one: refused', () => {
    expect(errorOf(() => writes({ memory: { limit: 100 * 2 ** 20, swap: 50 * 2 ** 20 } }))).toMatch(/^config\.json: linux\.resources\.memory\.swap: 52428800 is below memory\.limit 104857600/);
    expect(errorOf(() => writes({ memory: { swap: 50 * 2 ** 20 } }))).toBe('config.json: linux.resources.memory.swap: a swap limit needs a memory limit: it is the total of memory and swap');
  });
  it('v1-only knobs are ignored with a warning', () => {
    const plan = planResources({ memory: { kernel: 1, kernelTCP: 2, swappiness: 60, disableOOMKiller: true } }, fail);
    expect(plan.writes).toEqual([]);
    expect(plan.warnings).toHaveLength(4);
    expect(plan.warnings[0]).toBe('linux.resources.memory.kernel is a cgroup v1 setting with no cgroup v2 equivalent: ignored');
  });
});

describe('cpu', () => {
  it('shares as weight with the mapping that keeps the default at the default (1024 -> 100), bounds exact', () => {
    expect(writes({ cpu: { shares: 1024 } })).toEqual(['cpu.weight=100']);
    expect(writes({ cpu: { shares: 2 } })).toEqual(['cpu.weight=1']);
    expect(writes({ cpu: { shares: 262144 } })).toEqual(['cpu.weight=10000']);
    expect(writes({ cpu: { shares: 0 } })).toEqual([]);
  });
  it('quota and period as cpu.max', () => {
    expect(writes({ cpu: { quota: 50000, period: 100000 } })).toEqual(['cpu.max=50000 100000']);
    expect(writes({ cpu: { quota: 20000 } })).toEqual(['cpu.max=20000 100000']);
    expect(writes({ cpu: { quota: -1, period: 250000 } })).toEqual(['cpu.max=max 250000']);
    expect(writes({ cpu: { period: 100000 } })).toEqual(['cpu.max=max 100000']);
  });
  it('cpuset, burst, idle', () => {
    expect(writes({ cpu: { cpus: '0-1, 3', mems: '0', burst: 1000, idle: 1 } })).toEqual(['cpuset.cpus=0-1,3', 'cpuset.mems=0', 'cpu.idle=1', 'cpu.max.burst=1000']);
    expect(errorOf(() => writes({ cpu: { cpus: '3-1' } }))).toBe("config.json: linux.resources.cpu.cpus: '3-1' is not a CPU list like 0-3 or 0,2");
  });
  it('real-time CPU time cannot be had in v2', () => {
    expect(errorOf(() => writes({ cpu: { realtimeRuntime: 950000 } }))).toBe('config.json: linux.resources.cpu.realtimeRuntime: real-time CPU time cannot be given to a group in cgroup v2');
  });
});

describe('pids, io, hugetlb, rdma, network, unified', () => {
  it('pids: <= 0 is max', () => {
    expect(writes({ pids: { limit: 2048 } })).toEqual(['pids.max=2048']);
    expect(writes({ pids: { limit: 0 } })).toEqual(['pids.max=max']);
    expect(writes({ pids: { limit: -1 } })).toEqual(['pids.max=max']);
  });
  it('blockIO weight: BFQ\'s, else io.weight on its scale (runc\'s conversion)', () => {
    const plan = planResources({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 10 }] } }, fail);
    expect(plan.writes).toEqual([
      { file: 'io.bfq.weight', value: '500', controller: 'io', source: 'linux.resources.blockIO.weight', fallback: { file: 'io.weight', value: '4950' } },
      { file: 'io.bfq.weight', value: '8:0 10', controller: 'io', source: 'linux.resources.blockIO.weightDevice[0]', fallback: { file: 'io.weight', value: '8:0 1' } },
    ]);
    expect([blkioWeightToIoWeight(10), blkioWeightToIoWeight(1000)]).toEqual([1, 10000]);
    expect(errorOf(() => writes({ blockIO: { weight: 5 } }))).toBe('config.json: linux.resources.blockIO.weight: must be from 10 to 1000');
  });
  it('throttles as io.max lines', () => {
    expect(writes({ blockIO: {
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 0 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 50 }],
    } })).toEqual(['io.max=8:0 rbps=1048576', 'io.max=8:0 wbps=max', 'io.max=8:16 riops=100', 'io.max=8:16 wiops=50']);
  });
  it('hugepages and rdma', () => {
    expect(writes({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }], rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } } })).toEqual([
      'hugetlb.2MB.max=4194304', 'rdma.max=mlx5_1 hca_handle=3 hca_object=10000',
    ]);
    expect(errorOf(() => writes({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }))).toMatch(/pageSize: '2M' is not a page size/);
  });
  it('net_cls / net_prio are v1 only: refused', () => {
    expect(errorOf(() => writes({ network: { classID: 1048577 } }))).toMatch(/^config\.json: linux\.resources\.network: net_cls and net_prio are cgroup v1 controllers/);
    expect(writes({ network: {} })).toEqual([]);
  });
  it('unified: passed through last, replacing a translated value; names checked', () => {
    expect(writes({ memory: { limit: 1048576 }, unified: { 'memory.max': '2097152', 'memory.high': '1000000', 'cgroup.freeze': '0' } })).toEqual([
      'memory.max=2097152', 'memory.high=1000000', 'cgroup.freeze=0',
    ]);
    for (const bad of ['../../etc/x', 'memory/max', 'nodot', 'memory..max', 'cgroup.procs']) {
      expect(errorOf(() => writes({ unified: { [bad]: '1' } }))).toMatch(/^config\.json: linux\.resources\.unified\./);
    }
  });
  it('controllers needed, by the fields that asked (core files need none)', () => {
    const plan = planResources({ memory: { limit: 1 << 24 }, pids: { limit: 5 }, unified: { 'cgroup.freeze': '0', 'memory.high': '1' } }, fail);
    expect(plan.controllers).toEqual(['memory', 'pids']);
    expect(neededControllers(plan.writes)).toEqual(new Map([
      ['memory', ['linux.resources.memory.limit', 'linux.resources.unified.memory.high']],
      ['pids', ['linux.resources.pids.limit']],
    ]));
  });
  it('update --resources names its own document and paths', () => {
    expect(() => planResources({ cpu: { cpus: 'x' } }, failIn('resources.json'), '', { forNewGroup: false })).toThrow("resources.json: cpu.cpus: 'x' is not a CPU list like 0-3 or 0,2");
    expect(planResources({ pids: { limit: -1 } }, failIn('-'), '', { forNewGroup: false }).writes).toEqual([{ file: 'pids.max', value: 'max', controller: 'pids', source: 'pids.limit' }]);
  });
  it('toCgroupLimits says what the current cgroup manager cannot write', () => {
    const plan = planResources({ cpu: { mems: '0' }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }], memory: { limit: -1 } }, fail);
    expect(toCgroupLimits(plan.writes)).toEqual({ limits: {}, unsupported: ['linux.resources.cpu.mems (cpuset.mems 0)', 'linux.resources.hugepageLimits[0] (hugetlb.2MB.max 0)'] });
  });
});

describe('create leaves out what a new group already has', () => {
  it('the engines\' "no limit" values need no controller (podman --pids-limit -1, containerd\'s period alone, default shares)', () => {
    expect(createWrites({ pids: { limit: 0 }, cpu: { period: 100000, shares: 1024 }, memory: { limit: -1, swap: -1 } })).toEqual([]);
    expect(planResources({ pids: { limit: -1 } }, fail).controllers).toEqual([]);
  });
  it('real limits stay', () => {
    expect(createWrites({ pids: { limit: 100 }, cpu: { period: 100000, quota: 50000, shares: 512 } })).toEqual(['cpu.weight=59', 'cpu.max=50000 100000', 'pids.max=100']);
  });
});

describe('cgroupsPath', () => {
  const path = (v: string | undefined, systemd = false) => planCgroupsPath(v, { systemd }, fail);
  it('absent, absolute, relative', () => {
    expect(path(undefined)).toEqual({ kind: 'default' });
    expect(path('/k8s.io/abc')).toEqual({ kind: 'path', path: '/k8s.io/abc' });
    expect(path('//libpod_parent//libpod-1/')).toEqual({ kind: 'path', path: '/libpod_parent/libpod-1' });
    expect(path('mygroup/c1')).toEqual({ kind: 'relative', path: 'mygroup/c1' });
  });
  it('refused: .., the root, a systemd path without --systemd-cgroup', () => {
    expect(errorOf(() => path('/a/../../b'))).toBe("config.json: linux.cgroupsPath: '/a/../../b' contains '.' or '..'");
    expect(errorOf(() => path('/'))).toMatch(/is the root of the hierarchy/);
    expect(errorOf(() => path('system.slice:docker:abc'))).toBe("config.json: linux.cgroupsPath: 'system.slice:docker:abc' looks like systemd's SLICE:PREFIX:NAME");
  });
  it('systemd\'s form, mapped to the path systemd would use', () => {
    expect(path('system.slice:libpod:abc', true)).toEqual({ kind: 'systemd', path: '/system.slice/libpod-abc.scope', slice: 'system.slice', prefix: 'libpod', name: 'abc' });
    expect(path('kubepods-besteffort-pod12.slice:cri-containerd:c0ffee', true).path).toBe('/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-c0ffee.scope');
    expect(path(':docker:abc', true).path).toBe('/system.slice/docker-abc.scope');
    expect(path('machine.slice::x', true).path).toBe('/machine.slice/x.scope');
    expect(errorOf(() => path('/a/b', true))).toMatch(/is not systemd's SLICE:PREFIX:NAME, which --systemd-cgroup needs/);
    expect(errorOf(() => path('notaslice:p:n', true))).toMatch(/'notaslice' is not a slice/);
  });
  it('expandSlice', () => {
    const f = (what: string) => new Error(what);
    expect(expandSlice('-.slice', f)).toBe('/');
    expect(expandSlice('a-b-c.slice', f)).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(() => expandSlice('a--b.slice', f)).toThrow(/not a valid slice name/);
  });
});

describe('devices', () => {
  const policy = (list: Parameters<typeof planDevicePolicy>[0]) => planDevicePolicy(list, fail);
  it('no list, or deny-all: tsbox\'s defaults only', () => {
    expect(policy(undefined)).toEqual(DEFAULT_DEVICE_RULES);
    expect(policy([{ allow: false, access: 'rwm' }])).toEqual(DEFAULT_DEVICE_RULES);
  });
  it('allows after deny-all are added once; an exact deny takes one back', () => {
    expect(policy([{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: -1, access: 'rw' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }])).toEqual([
      ...DEFAULT_DEVICE_RULES, { type: 'b', major: 7, minor: '*', access: 'rw' },
    ]);
    expect(policy([{ allow: true, type: 'b', major: 7, minor: 0, access: 'rw' }, { allow: false, type: 'b', major: 7, minor: 0, access: 'rw' }])).toEqual(DEFAULT_DEVICE_RULES);
  });
  it('allow all (podman --privileged): no program', () => {
    expect(policy([{ allow: false, access: 'rwm' }, { allow: true, access: 'rwm' }])).toBeNull();
    expect(policy([{ allow: true, access: 'rwm' }, { allow: false, access: 'rwm' }])).toEqual(DEFAULT_DEVICE_RULES);
  });
  it('what an allow-list cannot say is refused', () => {
    expect(errorOf(() => policy([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 200, access: 'rwm' }]))).toMatch(/^config\.json: linux\.resources\.devices\[1\]: a deny rule after "allow all" cannot be expressed/);
    expect(errorOf(() => policy([{ allow: true, type: 'b', major: 7, access: 'rwm' }, { allow: false, type: 'b', major: 7, minor: 1, access: 'w' }]))).toMatch(/takes back part of an earlier allow/);
    expect(errorOf(() => policy([{ allow: true, type: 'x', access: 'rwm' }]))).toBe("config.json: linux.resources.devices[0].type: 'x' is not a, c or b");
    expect(errorOf(() => policy([{ allow: true, type: 'c', access: 'rwx' }]))).toBe("config.json: linux.resources.devices[0].access: 'rwx' is not a combination of r, w and m");
  });
  it('nodes: defaults unless given, under /dev only, links', () => {
    const plan = planDeviceNodes([{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o20600 }, { path: '/dev/fuse', type: 'u', major: 10, minor: 229 }, { path: '/dev/ctl', type: 'p' }], false, fail);
    expect(plan.nodes.map((n) => `${n.target} ${n.type} ${n.major}:${n.minor} ${n.mode.toString(8)}`)).toEqual([
      'dev/zero c 1:5 666', 'dev/full c 1:7 666', 'dev/random c 1:8 666', 'dev/urandom c 1:9 666', 'dev/tty c 5:0 666',
      'dev/null c 1:3 600', 'dev/fuse c 10:229 666', 'dev/ctl p 0:0 666',
    ]);
    expect(plan.create).toBe(true);
    expect(planDeviceNodes([], true, fail).create).toBe(false);
    expect(errorOf(() => planDeviceNodes([{ path: '/etc/loop0', type: 'b', major: 7, minor: 0 }], false, fail))).toMatch(/^config\.json: linux\.devices\[0\]\.path: '\/etc\/loop0' is not under \/dev/);
    expect(errorOf(() => planDeviceNodes([{ path: '/dev/../etc/x', type: 'b', major: 7, minor: 0 }], false, fail))).toMatch(/is not under \/dev/);
    expect(errorOf(() => planDeviceNodes([{ path: '/dev/x', type: 'b' }], false, fail))).toBe('config.json: linux.devices[0]: a character or block device needs major and minor');
  });
});

describe('without a device program', () => {
  const nodes = planDeviceNodes([{ path: '/dev/sda', type: 'b', major: 8, minor: 0 }], false, fail);
  it('a node tsbox would make that the list denies: refused', () => {
    const devices = { ...nodes, rules: planDevicePolicy([{ allow: false, access: 'rwm' }], fail) };
    expect(refuseWithoutDevicePolicy({ devices, bounding: [] }, 'bpf() refused')?.message).toBe('config.json: linux.devices: /dev/sda is denied by linux.resources.devices, which cannot be enforced (bpf() refused)');
  });
  it('allowed nodes, no bypass capability: fine; MKNOD: refused; allow all: fine', () => {
    const devices = { ...nodes, rules: planDevicePolicy([{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'rw' }], fail) };
    expect(refuseWithoutDevicePolicy({ devices, bounding: ['CAP_CHOWN'] }, 'no cgroup')).toBeNull();
    expect(refuseWithoutDevicePolicy({ devices, bounding: ['CAP_MKNOD'] }, 'no cgroup')?.message).toMatch(/^config\.json: linux\.resources\.devices: cannot be enforced \(no cgroup\), and with CAP_MKNOD/);
    expect(refuseWithoutDevicePolicy({ devices: { ...devices, rules: null }, bounding: ['CAP_MKNOD'] }, 'no cgroup')).toBeNull();
  });
});
