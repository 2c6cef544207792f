/**
 * Translating real config.json files into tsbox's plans: what podman 4.3, containerd 1.6
 * (through Kubernetes' CRI) and `runc spec` send becomes the namespaces, mounts, devices,
 * cgroup writes, security and hooks tsbox's executors take.
 */
import { describe, expect, it } from 'vitest';
import { decideCgroup } from '../../src/cgroups/availability.js';
import { DEFAULT_DEVICE_RULES } from '../../src/devices/rules.js';
import { decodeProgram } from '../../src/security/bpf.js';
import { runProgram, validateProgram } from '../../src/security/bpf-interpret.js';
import { describeReturnValue } from '../../src/security/seccomp-profile.js';
import { CLONE } from '../../src/sys/process-flags.js';
import { MS } from '../../src/sys/mount-flags.js';
import { X86_64_SYSCALLS } from '../../src/security/syscalls-x86_64.js';
import { OciSpecError, neededControllers, nodeBundleFs, parseOciConfig, toCgroupLimits, toTsboxMountSteps, translateOciConfig, type OciContainerPlan } from '../../src/oci/spec/index.js';
import { everythingExists, fixture } from './oci-spec-helpers.js';

const ARCH_X86_64 = 0xc000003e;

function plan(name: string, change?: (c: Record<string, any>) => void, opts: { systemdCgroup?: boolean } = {}): OciContainerPlan {
  const json = fixture(name);
  change?.(json);
  return translateOciConfig(parseOciConfig(json), { bundle: '/b', probe: everythingExists, ...opts });
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OciSpecError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('podman 4.3 run -d', () => {
  const p = plan('podman-4.3-run-d');

  it('namespaces: new pid/ipc/uts/mount, the network namespace podman made joined by path', () => {
    expect(p.namespaces.created).toEqual(['pid', 'ipc', 'uts', 'mount']);
    expect(p.namespaces.cloneFlags).toBe(CLONE.NEWPID | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS);
    expect(p.namespaces.joined).toEqual([{ type: 'network', path: expect.stringMatching(/^\/run\/netns\/netns-/), nstype: CLONE.NEWNET, isHost: false }]);
    expect(p.namespaces.shared).toEqual(['cgroup']);
  });

  it('process: podman\'s user, umask, env, caps, rlimits, no terminal', () => {
    expect(p.process.user).toEqual({ uid: 0, gid: 0, additionalGids: [], umask: 0o22 });
    expect(p.process.terminal).toBe(false);
    expect(p.process.capabilities.bounding).toHaveLength(11);
    expect(p.process.capabilities.bounding).toContain('CAP_SYS_CHROOT');
    expect(p.process.capabilities.ambient).toEqual([]);
    expect(p.process.rlimits).toEqual([
      { type: 'RLIMIT_NOFILE', resource: 7, soft: 1048576, hard: 1048576 },
      { type: 'RLIMIT_NPROC', resource: 6, soft: 32768, hard: 32768 },
    ]);
    expect(p.security.capabilities).toEqual(p.process.capabilities);
    expect(p.security.noNewPrivileges).toBe(false);
  });

  it('seccomp: podman\'s profile compiles, and the filter does what the profile says', () => {
    const s = p.security.seccomp!;
    expect(s.defaultAction).toBe('errno(38)');
    const program = decodeProgram(Buffer.from(s.filter, 'base64'));
    validateProgram(program);
    const outcome = (name: string, args: number[] = []) => describeReturnValue(runProgram(program, { nr: X86_64_SYSCALLS[name]!, arch: ARCH_X86_64, args }));
    expect(outcome('getpid')).toBe('allow');
    // Listed with errnoRet 1 (EPERM); not listed at all (create_module): the default action.
    expect(outcome('kexec_load')).toBe('errno(1)');
    expect(outcome('create_module')).toBe('errno(38)');
    // personality is allowed only for some personas (an argument condition).
    expect(outcome('personality', [0])).toBe('allow');
    expect(outcome('personality', [0x12345])).toBe('errno(38)');
    // Another ABI is killed whatever the profile lists (see seccomp.ts).
    expect(describeReturnValue(runProgram(program, { nr: 20, arch: 0x40000003 }))).toBe('kill-process');
  });

  it('mounts in config order, targets in-root relative', () => {
    expect(p.mounts.map((m) => m.target)).toEqual(['proc', 'dev', 'sys', 'dev/pts', 'dev/mqueue', 'etc/resolv.conf', 'etc/hosts', 'dev/shm', 'run/.containerenv', 'etc/hostname', 'sys/fs/cgroup']);
    expect(p.mounts[0]).toMatchObject({ op: 'mount', fstype: 'proc', source: 'proc', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV, data: '' });
    expect(p.mounts[1]).toMatchObject({ op: 'mount', fstype: 'tmpfs', flags: MS.NOSUID | MS.NOEXEC | MS.STRICTATIME, data: 'mode=755,size=65536k' });
    expect(p.mounts[3]).toMatchObject({ op: 'mount', fstype: 'devpts', data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' });
    expect(p.mounts[6]).toMatchObject({ op: 'bind', recursive: false, flags: 0, create: 'file', propagation: [MS.PRIVATE | MS.REC] });
    expect(p.mounts[10]).toMatchObject({ op: 'cgroup', requested: 'cgroup', flags: MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY });
    expect(p.maskedPaths).toContain('proc/kcore');
    expect(p.readonlyPaths).toContain('proc/sys');
  });

  it('devices: none listed, so the defaults; the policy is deny-all plus tsbox\'s defaults', () => {
    expect(p.devices.create).toBe(true);
    expect(p.devices.nodes.map((n) => n.target)).toEqual(['dev/null', 'dev/zero', 'dev/full', 'dev/random', 'dev/urandom', 'dev/tty']);
    expect(p.devices.symlinks).toContainEqual({ target: 'dev/ptmx', linkTo: 'pts/ptmx' });
    expect(p.devices.rules).toEqual(DEFAULT_DEVICE_RULES);
  });

  it('cgroup: podman\'s path from the v2 root and its pids limit', () => {
    expect(p.cgroup.path).toEqual({ kind: 'path', path: expect.stringMatching(/^\/libpod_parent\/libpod-[0-9a-f]{64}$/) });
    expect(p.cgroup.resources.writes).toEqual([{ file: 'pids.max', value: '2048', controller: 'pids', source: 'linux.resources.pids.limit' }]);
  });

  it('on this kind of host (v2 has only hugetlb), the pids limit is refused clearly before anything is made', () => {
    const facts = { mount: '/sys/fs/cgroup/unified', writable: true, available: new Set(['hugetlb']), boundToV1: new Map([['pids', '/sys/fs/cgroup/pids']]) };
    const decision = decideCgroup(facts, neededControllers(p.cgroup.resources.writes));
    expect(decision).toBeInstanceOf(Error);
    expect((decision as Error).message).toBe('pids controller is not available in cgroup v2 on this host (it is bound to cgroup v1 at /sys/fs/cgroup/pids); run without linux.resources.pids.limit or on a host with a unified cgroup hierarchy');
  });

  it('sysctl: ping_group_range is the network namespace\'s, which is the container\'s own (joined)', () => {
    expect(p.sysctl).toEqual([{ name: 'net.ipv4.ping_group_range', file: 'net/ipv4/ping_group_range', value: '0 0' }]);
  });

  it('nothing to warn about, no hooks', () => {
    expect(p.warnings).toEqual([]);
    expect(Object.values(p.hooks).flat()).toEqual([]);
  });
});

describe('podman 4.3 with flags', () => {
  const p = plan('podman-4.3-flags');

  it('terminal, no_new_privs, the added capability', () => {
    expect(p.process.terminal).toBe(true);
    expect(p.security.noNewPrivileges).toBe(true);
    expect(p.process.capabilities.bounding).toContain('CAP_NET_ADMIN');
  });

  it('v1-shaped resources become cgroup v2 files', () => {
    const byFile = Object.fromEntries(p.cgroup.resources.writes.map((w) => [w.file, w.value]));
    expect(byFile).toEqual({
      'memory.max': '268435456',
      // --memory-swap 512m is memory plus swap: 256m of swap.
      'memory.swap.max': '268435456',
      'cpu.weight': '59',
      'cpu.max': '150000 100000',
      'pids.max': '100',
    });
    expect(p.cgroup.resources.controllers).toEqual(['cpu', 'memory', 'pids']);
    const { limits, unsupported } = toCgroupLimits(p.cgroup.resources.writes);
    expect(limits).toEqual({ cpuWeight: 59, cpuMax: { quotaUs: 150000, periodUs: 100000 }, memoryMax: 268435456, memorySwapMax: 268435456, pidsMax: 100 });
    expect(unsupported).toEqual([]);
  });

  it('--device: a node and an allow rule; --tmpfs with tmpcopyup; -v ro rbind', () => {
    expect(p.devices.nodes).toContainEqual({ target: 'dev/loop0', type: 'b', major: 7, minor: 0, mode: 0o600, uid: 0, gid: 0 });
    expect(p.devices.rules).toEqual([...DEFAULT_DEVICE_RULES, { type: 'b', major: 7, minor: 0, access: 'rwm' }]);
    const scratch = p.mounts.find((m) => m.target === 'scratch')!;
    expect(scratch).toMatchObject({ op: 'mount', fstype: 'tmpfs', data: 'size=64m', flags: MS.NOSUID | MS.NODEV, copyUp: true });
    const data = p.mounts.find((m) => m.target === 'data')!;
    expect(data).toMatchObject({ op: 'bind', recursive: true, flags: MS.RDONLY, create: 'dir' });
  });

  it('the bridge to today\'s mount executor says what it cannot carry', () => {
    const { steps, unsupported, approximated } = toTsboxMountSteps(p, { cgroupNamespace: false, cgroupDir: '/sys/fs/cgroup/unified/tsbox/c1' });
    expect(steps.find((s) => s.target === '/data')).toEqual({ op: 'bind', source: '/tmp/oci-spec-fx/ptmp', target: '/data', readOnly: true, create: 'dir', flags: 0 });
    // Nodes right after the /dev mount, before /dev/pts.
    const targets = steps.map((s) => s.target);
    expect(targets.indexOf('/dev/loop0')).toBeGreaterThan(targets.indexOf('/dev'));
    expect(targets.indexOf('/dev/loop0')).toBeLessThan(targets.indexOf('/dev/pts'));
    expect(unsupported).toContain('mounts[1] (/scratch): tmpcopyup');
    expect(unsupported).toEqual(['mounts[1] (/scratch): tmpcopyup']);
    expect(approximated).toContain('mounts[7] (/etc/hosts): a non-recursive bind made recursive');
    expect(approximated).toContain('mounts[12] (/sys/fs/cgroup): cgroup v2 in place of the v1 hierarchies asked for');
    // No cgroup namespace: the container's own group, never the host's hierarchy.
    expect(steps.find((s) => s.target === '/sys/fs/cgroup')).toEqual({ op: 'bind', source: '/sys/fs/cgroup/unified/tsbox/c1', target: '/sys/fs/cgroup', readOnly: true, create: 'dir', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC });
    const noGroup = toTsboxMountSteps(p, { cgroupNamespace: false, cgroupDir: null }).steps.find((s) => s.target === '/sys/fs/cgroup');
    expect(noGroup).toMatchObject({ op: 'mount', fstype: 'tmpfs', flags: expect.any(Number) });
    const withNs = toTsboxMountSteps(p, { cgroupNamespace: true, cgroupDir: null }).steps.find((s) => s.target === '/sys/fs/cgroup');
    expect(withNs).toMatchObject({ op: 'mount', fstype: 'cgroup2' });
  });

  it('the two sysctls are the network namespace\'s', () => {
    expect(p.sysctl.map((s) => s.name).sort()).toEqual(['net.ipv4.ip_forward', 'net.ipv4.ping_group_range']);
  });
});

describe('podman 4.3 --cgroups=disabled --pids-limit -1', () => {
  it('no cgroupsPath and a pids limit of 0 (max, what a new group has): nothing to write, no controller needed', () => {
    const p = plan('podman-4.3-cgroups-disabled');
    expect(p.cgroup.path).toEqual({ kind: 'default' });
    expect(p.cgroup.resources.writes).toEqual([]);
    expect(p.cgroup.resources.controllers).toEqual([]);
  });
});

describe('containerd 1.6 for a Kubernetes pod container', () => {
  const p = plan('containerd-1.6-k8s-pod-container');

  it('joins the sandbox\'s pid, ipc, uts and network namespaces by /proc paths, makes its own mount namespace', () => {
    expect(p.namespaces.created).toEqual(['mount']);
    expect(p.namespaces.joined.map((j) => [j.type, j.path])).toEqual([
      ['ipc', '/proc/4242/ns/ipc'],
      ['uts', '/proc/4242/ns/uts'],
      ['network', '/proc/4242/ns/net'],
      ['pid', '/proc/4242/ns/pid'],
    ]);
  });

  it('oomScoreAdj, additional groups, a relative root in the bundle', () => {
    expect(p.process.oomScoreAdj).toBe(1000);
    expect(p.process.user.additionalGids).toEqual([0, 10]);
    expect(p.root).toEqual({ path: '/b/rootfs', readOnly: false, propagation: MS.SLAVE | MS.REC });
  });

  it('the AppArmor profile is ignored with a warning', () => {
    expect(p.warnings).toEqual(["process.apparmorProfile 'cri-containerd.apparmor.d' ignored: tsbox does not support AppArmor"]);
  });

  it('cgroupsPath /k8s.io/ID, cpu.shares 2 as the lowest weight, swap equal to memory: no swap', () => {
    expect(p.cgroup.path).toEqual({ kind: 'path', path: '/k8s.io/9b1f0c2d' });
    expect(p.cgroup.resources.writes.map((w) => `${w.file}=${w.value}`)).toEqual(['cpu.weight=1', 'memory.max=134217728', 'memory.swap.max=0']);
  });

  it('the CRI\'s device allow-list, the console (5:1) included as the CRI asks', () => {
    expect(p.devices.rules).toContainEqual({ type: 'c', major: 5, minor: 1, access: 'rwm' });
    expect(p.devices.rules).toContainEqual({ type: 'c', major: 136, minor: '*', access: 'rwm' });
  });

  it('no seccomp profile: no filter', () => {
    expect(p.security.seccomp).toBeNull();
    expect(p.security.noNewPrivileges).toBe(true);
  });
});

describe('runc spec', () => {
  it('translates, with runc\'s defaults: read-only root, terminal, ambient caps', () => {
    const p = plan('runc-spec');
    expect(p.root.readOnly).toBe(true);
    expect(p.process.terminal).toBe(true);
    expect(p.process.capabilities.ambient).toEqual(['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE']);
    expect(p.hostname).toBe('runc');
    expect(p.mounts[0]).toMatchObject({ op: 'mount', fstype: 'proc', flags: 0 });
  });
});

describe('checks that need the context: one line each', () => {
  it('a hostname without a UTS namespace of its own', () => {
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'uts'); }))).toBe(
      "config.json: hostname: cannot be set without a UTS namespace of the container's own: it would rename the host",
    );
  });

  it('a net.* sysctl without a network namespace; a global kernel sysctl', () => {
    expect(errorOf(() => plan('runc-spec', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network');
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }))).toBe("config.json: linux.sysctl.net.ipv4.ip_forward: 'net.ipv4.ip_forward' belongs to the network namespace, and the container shares the host's");
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.sysctl = { 'kernel.panic': '1' }; }))).toBe(
      "config.json: linux.sysctl.kernel.panic: 'kernel.panic' is not in a namespace of the container's own: setting it would change the host",
    );
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.sysctl = { 'net.ipv4.../x': '1' }; }))).toMatch(/is not a sysctl name$/);
  });

  it('a namespace joined by path that is the host\'s own is no namespace of the container\'s (runc compares them too)', () => {
    const json = fixture('podman-4.3-run-d');
    const probe = { ...everythingExists, isHostNamespace: (path: string, type: string) => type === 'network' && path.startsWith('/run/netns/') };
    expect(errorOf(() => translateOciConfig(parseOciConfig(json), { bundle: '/b', probe }))).toBe(
      "config.json: linux.sysctl.net.ipv4.ping_group_range: 'net.ipv4.ping_group_range' belongs to the network namespace, and the container shares the host's",
    );
    const uts = fixture('containerd-1.6-k8s-pod-container');
    uts.hostname = 'pod-a';
    uts.linux.sysctl = {};
    const hostUts = { ...everythingExists, isHostNamespace: (_p: string, type: string) => type === 'uts' };
    expect(errorOf(() => translateOciConfig(parseOciConfig(uts), { bundle: '/b', probe: hostUts }))).toMatch(/^config\.json: hostname: cannot be set without a UTS namespace of the container's own/);
    expect(translateOciConfig(parseOciConfig(uts), { bundle: '/b', probe: everythingExists }).hostname).toBe('pod-a');
  });

  it('nodeBundleFs knows the runtime\'s own namespaces', () => {
    expect(nodeBundleFs.isHostNamespace!('/proc/self/ns/net', 'network')).toBe(true);
    expect(nodeBundleFs.isHostNamespace!('/proc/self/ns/net', 'uts')).toBe(false);
    expect(nodeBundleFs.isHostNamespace!('/nonexistent/ns', 'network')).toBe(false);
  });

  it('IPC and UTS sysctls need their namespaces', () => {
    const p = plan('runc-spec', (c) => { c.linux.sysctl = { 'kernel.shmmax': '1024', 'fs.mqueue.msg_max': '20', 'kernel.domainname': 'x' }; });
    expect(p.sysctl.map((s) => s.file)).toEqual(['kernel/shmmax', 'fs/mqueue/msg_max', 'kernel/domainname']);
    expect(errorOf(() => plan('runc-spec', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'ipc');
      c.linux.sysctl = { 'kernel.shmmax': '1024' };
    }))).toMatch(/belongs to the ipc namespace/);
  });

  it('an interface name with a dot', () => {
    const p = plan('runc-spec', (c) => { c.linux.sysctl = { 'net.ipv4.conf.eth0/100.forwarding': '1', 'net/ipv6/conf/eth0.200/mtu': '1400' }; });
    expect(p.sysctl).toEqual([
      { name: 'net.ipv4.conf.eth0/100.forwarding', file: 'net/ipv4/conf/eth0.100/forwarding', value: '1' },
      { name: 'net.ipv6.conf.eth0/200.mtu', file: 'net/ipv6/conf/eth0.200/mtu', value: '1400' },
    ]);
  });

  it('user namespaces and id mappings are refused until rootless exists', () => {
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.namespaces.push({ type: 'user' }); }))).toMatch(/^config\.json: linux\.namespaces\[5\]\.type: user namespaces \(and uid\/gid mappings\) are not supported by tsbox yet/);
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }))).toMatch(/^config\.json: linux\.uidMappings: uid\/gid mappings need a user namespace/);
  });

  it('unknown and repeated namespace types, a mount namespace by path, none at all', () => {
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.namespaces.push({ type: 'net' }); }))).toMatch(/^config\.json: linux\.namespaces\[5\]\.type: unknown namespace type 'net'/);
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.namespaces.push({ type: 'pid' }); }))).toBe('config.json: linux.namespaces[5].type: the pid namespace is listed twice');
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.namespaces[4] = { type: 'mount', path: '/proc/1/ns/mnt' }; }))).toMatch(/^config\.json: linux\.namespaces\[4\]\.path: joining an existing mount namespace is not supported/);
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.namespaces.splice(4, 1); }))).toMatch(/^config\.json: linux\.namespaces: there is no mount namespace/);
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.namespaces[0] = { type: 'pid', path: 'proc/1/ns/pid' }; }))).toBe("config.json: linux.namespaces[0].path: 'proc/1/ns/pid' is not an absolute path");
  });

  it('process: empty args, relative cwd, env without =, a duplicated rlimit, soft above hard', () => {
    expect(errorOf(() => plan('runc-spec', (c) => { c.process.args = []; }))).toBe('config.json: process.args: is empty: there is no command to run');
    expect(errorOf(() => plan('runc-spec', (c) => { c.process.cwd = 'home'; }))).toBe("config.json: process.cwd: 'home' is not an absolute path");
    expect(errorOf(() => plan('runc-spec', (c) => { c.process.env.push('JUSTNAME'); }))).toBe("config.json: process.env[2]: 'JUSTNAME' is not NAME=VALUE");
    expect(errorOf(() => plan('runc-spec', (c) => { c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }); }))).toBe('config.json: process.rlimits[1].type: RLIMIT_NOFILE is given twice');
    expect(errorOf(() => plan('runc-spec', (c) => { c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 10, hard: 5 }]; }))).toBe('config.json: process.rlimits[0]: the soft limit (10) is above the hard limit (5)');
    expect(errorOf(() => plan('runc-spec', (c) => { c.process.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]; }))).toMatch(/^config\.json: process\.rlimits\[0\]\.type: unknown rlimit 'RLIMIT_FOO'/);
    expect(errorOf(() => plan('runc-spec', (c) => { c.process.oomScoreAdj = 1001; }))).toBe('config.json: process.oomScoreAdj: must be from -1000 to 1000');
    expect(errorOf(() => plan('runc-spec', (c) => { delete c.process; }))).toMatch(/^config\.json: process: is required/);
  });

  it('an rlimit of RLIM_INFINITY (2^64-1, rounded by JSON) is unlimited', () => {
    const p = plan('runc-spec', (c) => { c.process.rlimits = [{ type: 'RLIMIT_MEMLOCK', soft: 18446744073709551615, hard: 18446744073709551615 }]; });
    expect(p.process.rlimits).toEqual([{ type: 'RLIMIT_MEMLOCK', resource: 8, soft: 'unlimited', hard: 'unlimited' }]);
  });

  it('unknown capabilities are dropped with a warning (as runc), SELinux labels ignored with one', () => {
    const p = plan('runc-spec', (c) => {
      c.process.capabilities.bounding.push('CAP_FROM_THE_FUTURE');
      c.process.selinuxLabel = 'system_u:system_r:container_t:s0';
      c.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
    });
    expect(p.process.capabilities.bounding).not.toContain('CAP_FROM_THE_FUTURE');
    expect(p.warnings).toEqual([
      "process.selinuxLabel 'system_u:system_r:container_t:s0' ignored: tsbox does not support SELinux",
      'process.capabilities: unknown capabilities ignored: CAP_FROM_THE_FUTURE',
      "linux.mountLabel 'system_u:object_r:container_file_t:s0' ignored: tsbox does not support SELinux",
    ]);
  });

  it('seccomp: a notify action, an unknown action, an agent, an unknown flag', () => {
    const base = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.seccomp = base; }))).toBe('config.json: linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY needs a seccomp agent, which tsbox does not support');
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_BOGUS' }; }))).toMatch(/^config\.json: linux\.seccomp\.defaultAction: /);
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }; }))).toBe('config.json: linux.seccomp.listenerPath: seccomp agents (SCMP_ACT_NOTIFY) are not supported by tsbox');
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }; }))).toMatch(/^config\.json: linux\.seccomp\.flags\[0\]: unknown flag/);
  });

  it('seccomp: ERRNO with errnoRet, KILL_PROCESS default, MASKED_EQ', () => {
    const p = plan('runc-spec', (c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_KILL_PROCESS',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [
          { names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffff, valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] },
          { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        ],
      };
    });
    expect(p.security.seccomp).toMatchObject({ defaultAction: 'kill-process', rules: 5, source: 'config.json' });
  });

  it('personality LINUX32; an unknown domain; flags', () => {
    expect(plan('runc-spec', (c) => { c.linux.personality = { domain: 'LINUX32' }; }).personality).toBe(8);
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.personality = { domain: 'SVR4' }; }))).toBe("config.json: linux.personality.domain: 'SVR4' is not LINUX or LINUX32");
  });

  it('intelRdt, timeOffsets: refused', () => {
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.intelRdt = { closID: 'x' }; }))).toBe('config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by tsbox');
    expect(errorOf(() => plan('runc-spec', (c) => { c.linux.timeOffsets = { monotonic: { secs: 1 } }; }))).toBe('config.json: linux.timeOffsets: time namespaces are not supported by tsbox');
  });
});
