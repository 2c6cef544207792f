import { describe, expect, it } from 'vitest';
import { attachDevicePolicy, type DevicePolicySys } from '../../src/devices/attach.js';
import { checkDistinctPaths, containerDevice, parseDeviceFlag, splitDeviceNumber } from '../../src/devices/device-flag.js';
import { applyDevicePolicy } from '../../src/devices/index.js';
import { devicePolicyRules, refuseWithoutPolicy, type DeviceSpec } from '../../src/devices/policy.js';
import { compileDeviceProgram } from '../../src/devices/program.js';
import { DEFAULT_DEVICE_RULES, formatDeviceRule, parseDeviceCgroupRule, type DeviceRule } from '../../src/devices/rules.js';
import { UsageError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { decodeEbpf, EBPF_OP, type EbpfInstruction } from '../../src/security/ebpf.js';
import { runEbpf } from '../../src/security/ebpf-interpret.js';
import { DEVCG_ACC, DEVCG_DEV } from '../../src/sys/bpf-constants.js';
import { SysError, VerifierRefusal } from '../../src/sys/sys-error.js';

/** struct bpf_cgroup_dev_ctx for "type major:minor access", as the kernel fills it. */
function request(type: 'c' | 'b', major: number, minor: number, access: string): Buffer {
  let bits = 0;
  for (const c of access) bits |= c === 'r' ? DEVCG_ACC.READ : c === 'w' ? DEVCG_ACC.WRITE : DEVCG_ACC.MKNOD;
  const ctx = Buffer.alloc(12);
  ctx.writeUInt32LE((bits << 16) | (type === 'b' ? DEVCG_DEV.BLOCK : DEVCG_DEV.CHAR), 0);
  ctx.writeUInt32LE(major, 4);
  ctx.writeUInt32LE(minor, 8);
  return ctx;
}

const allows = (rules: readonly DeviceRule[], type: 'c' | 'b', major: number, minor: number, access: string) =>
  runEbpf(compileDeviceProgram(rules), request(type, major, minor, access)) === 1;

/** The verifier refuses a program with an instruction no path reaches. */
function unreachable(program: readonly EbpfInstruction[]): number[] {
  const seen = new Set<number>();
  const todo = [0];
  while (todo.length > 0) {
    const pc = todo.pop()!;
    if (seen.has(pc) || pc >= program.length) continue;
    seen.add(pc);
    const insn = program[pc]!;
    if (insn.code === EBPF_OP.EXIT) continue;
    if (insn.code === EBPF_OP.JA) todo.push(pc + 1 + insn.off);
    else if (insn.code === EBPF_OP.JNE_IMM) todo.push(pc + 1, pc + 1 + insn.off);
    else todo.push(pc + 1);
  }
  return program.map((_, i) => i).filter((i) => !seen.has(i));
}

describe('the default device policy (docker\'s)', () => {
  const d = DEFAULT_DEVICE_RULES;
  it('allows the standard nodes, ptmx, the ptys and tun, for read, write and mknod', () => {
    for (const [major, minor] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2], [136, 0], [136, 4095], [10, 200]] as const) {
      expect(allows(d, 'c', major, minor, 'rw'), `c ${major}:${minor}`).toBe(true);
      expect(allows(d, 'c', major, minor, 'rwm'), `c ${major}:${minor}`).toBe(true);
    }
  });

  it('refuses every other device: a loop device, /dev/kmsg, /dev/mem, a disk, fuse, kvm, the host\'s console', () => {
    expect(allows(d, 'b', 7, 0, 'r')).toBe(false);
    expect(allows(d, 'b', 7, 0, 'w')).toBe(false);
    expect(allows(d, 'c', 1, 11, 'w')).toBe(false);
    expect(allows(d, 'c', 1, 1, 'r')).toBe(false);
    expect(allows(d, 'b', 254, 0, 'rw')).toBe(false);
    expect(allows(d, 'c', 10, 229, 'rw')).toBe(false);
    expect(allows(d, 'c', 10, 232, 'rw')).toBe(false);
    expect(allows(d, 'c', 5, 1, 'w')).toBe(false);
    // A block device with the numbers of a standard char one is another device.
    expect(allows(d, 'b', 1, 3, 'r')).toBe(false);
  });

  it('allows mknod of any node, which is harmless when the node does not open', () => {
    expect(allows(d, 'b', 7, 0, 'm')).toBe(true);
    expect(allows(d, 'c', 1, 11, 'm')).toBe(true);
    expect(allows(d, 'b', 7, 0, 'rm')).toBe(false);
  });

  it('compiles to a program without dead instructions that starts by reading the context', () => {
    const program = compileDeviceProgram(d);
    expect(unreachable(program)).toEqual([]);
    expect(program.slice(0, 6).map((i) => i.code)).toEqual([EBPF_OP.LDX_MEM_W, EBPF_OP.AND32_IMM, EBPF_OP.LDX_MEM_W, EBPF_OP.RSH32_IMM, EBPF_OP.LDX_MEM_W, EBPF_OP.LDX_MEM_W]);
    expect(program.at(-1)!.code).toBe(EBPF_OP.EXIT);
  });
});

describe('rules compiled', () => {
  it('match a request only when one rule covers all of its access', () => {
    const rules = [parseDeviceCgroupRule('b 7:0 r'), parseDeviceCgroupRule('b 7:0 w')];
    expect(allows(rules, 'b', 7, 0, 'r')).toBe(true);
    expect(allows(rules, 'b', 7, 0, 'w')).toBe(true);
    expect(allows(rules, 'b', 7, 0, 'rw')).toBe(false);
  });

  it('take * for any major or minor and a for any type', () => {
    const rules = [parseDeviceCgroupRule('b 7:* rw'), parseDeviceCgroupRule('a 42:1 r')];
    expect(allows(rules, 'b', 7, 12, 'rw')).toBe(true);
    expect(allows(rules, 'c', 7, 12, 'r')).toBe(false);
    expect(allows(rules, 'c', 42, 1, 'r')).toBe(true);
    expect(allows(rules, 'b', 42, 1, 'r')).toBe(true);
    expect(allows(rules, 'b', 42, 2, 'r')).toBe(false);
  });

  it('end the program at a rule that allows everything, so that no instruction is dead', () => {
    const program = compileDeviceProgram([parseDeviceCgroupRule('c 1:3 r'), parseDeviceCgroupRule('a *:* rwm'), parseDeviceCgroupRule('b 8:0 r')]);
    expect(unreachable(program)).toEqual([]);
    expect(runEbpf(program, request('b', 7, 0, 'rw'))).toBe(1);
  });

  it('deny everything when there is no rule', () => {
    const program = compileDeviceProgram([]);
    expect(unreachable(program)).toEqual([]);
    expect(runEbpf(program, request('c', 1, 3, 'r'))).toBe(0);
  });

  it('survive the trip through bytes', () => {
    const program = compileDeviceProgram(DEFAULT_DEVICE_RULES);
    const bytes = Buffer.alloc(program.length * 8);
    const sys = fakeSys({ onLoad: (b) => b.copy(bytes) });
    attachDevicePolicy('/cg', DEFAULT_DEVICE_RULES, sys);
    expect(decodeEbpf(bytes)).toEqual(program);
  });
});

describe('--device-cgroup-rule', () => {
  it('reads docker\'s syntax', () => {
    expect(parseDeviceCgroupRule('c 1:3 rwm')).toEqual({ type: 'c', major: 1, minor: 3, access: 'rwm' });
    expect(parseDeviceCgroupRule('b 7:* rw')).toEqual({ type: 'b', major: 7, minor: '*', access: 'rw' });
    expect(parseDeviceCgroupRule('a *:* m')).toEqual({ type: 'a', major: '*', minor: '*', access: 'm' });
    expect(parseDeviceCgroupRule('c 10:200 wr')).toEqual({ type: 'c', major: 10, minor: 200, access: 'rw' });
    expect(formatDeviceRule(parseDeviceCgroupRule('c 10:200 mwr'))).toBe('c 10:200 rwm');
  });

  it.each([
    ['x 1:3 rwm', /the type is not a \(all\), c \(char\) or b \(block\)/],
    ['c 1-3 rwm', /expected TYPE MAJOR:MINOR ACCESS/],
    ['c 1:3', /expected TYPE MAJOR:MINOR ACCESS/],
    ['c 1:3 rwx', /access is not a combination of r, w and m/],
    ['c 1:3 rr', /access is not a combination/],
    ['c a:3 r', /major number is not a number or \*/],
    ['c 4096:0 r', /major number is larger than 4095/],
    ['c 1:1048576 r', /minor number is larger than 1048575/],
    ['', /expected TYPE MAJOR:MINOR ACCESS/],
  ])('refuses %j in one line', (text, message) => {
    let err: unknown;
    try {
      parseDeviceCgroupRule(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/^invalid --device-cgroup-rule/);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('--device', () => {
  it('reads HOST, HOST:CONTAINER, HOST:ACCESS and HOST:CONTAINER:ACCESS', () => {
    expect(parseDeviceFlag('/dev/loop3')).toEqual({ hostPath: '/dev/loop3', containerPath: '/dev/loop3', access: 'rwm' });
    expect(parseDeviceFlag('/dev/loop3:/dev/disk0')).toEqual({ hostPath: '/dev/loop3', containerPath: '/dev/disk0', access: 'rwm' });
    expect(parseDeviceFlag('/dev/loop3:r')).toEqual({ hostPath: '/dev/loop3', containerPath: '/dev/loop3', access: 'r' });
    expect(parseDeviceFlag('/dev/loop3:/dev/x/y:wr')).toEqual({ hostPath: '/dev/loop3', containerPath: '/dev/x/y', access: 'rw' });
  });

  it.each([
    ['dev/loop3', /host path 'dev\/loop3' is not absolute/],
    ['/dev/loop3:dev/x', /container path 'dev\/x' is not absolute/],
    ['/dev/loop3:/opt/loop', /the container path \/opt\/loop is not under \/dev, where the container's device nodes must be \(the rest of its filesystem is mounted nodev\)/],
    ['/srv/loop', /\/srv\/loop \(the container path, when none is given\) is not under \/dev/],
    ['/dev/loop3:/dev/../etc/x', /not under \/dev/],
    ['/dev/loop3:/dev/pts/9', /tsbox's own/],
    ['/dev/loop3:/dev/shm', /tsbox's own/],
    ['/dev/loop3:/dev/x:rwx', /access 'rwx' is not a combination/],
    ['/a:/dev/b:r:w', /expected HOST\[:CONTAINER\]\[:ACCESS\]/],
  ])('refuses %j in one line', (text, message) => {
    expect(() => parseDeviceFlag(text)).toThrow(message);
    expect(() => parseDeviceFlag(text)).toThrow(/^invalid --device '/);
  });

  it('takes the type, numbers and permissions of the host node', () => {
    // makedev(259, 300): major 259 spans the high bits, minor 300 the middle ones.
    const rdev = ((259 & 0xfff) << 8) | (300 & 0xff) | ((300 & ~0xff) << 12);
    expect(splitDeviceNumber(rdev)).toEqual({ major: 259, minor: 300 });
    const req = parseDeviceFlag('/dev/nvme0n1:/dev/disk:r');
    expect(containerDevice(req, { kind: 'block', mode: 0o060660, rdev, uid: 0, gid: 6 })).toEqual({ path: '/dev/disk', type: 'b', major: 259, minor: 300, permissions: 0o660, uid: 0, gid: 6, access: 'r' });
    expect(() => containerDevice(req, { kind: 'other', mode: 0o100644, rdev: 0, uid: 0, gid: 0 })).toThrow(/is not a device node/);
  });

  it('refuses two nodes at one container path', () => {
    const a = containerDevice(parseDeviceFlag('/dev/loop1:/dev/x'), { kind: 'block', mode: 0o060600, rdev: 0x701, uid: 0, gid: 0 });
    const b = containerDevice(parseDeviceFlag('/dev/loop2:/dev/x'), { kind: 'block', mode: 0o060600, rdev: 0x702, uid: 0, gid: 0 });
    expect(() => checkDistinctPaths([a, b])).toThrow(/\/dev\/x is given twice/);
  });

  it('is allowed in the policy with its access, and nothing more', () => {
    const node = containerDevice(parseDeviceFlag('/dev/loop5:r'), { kind: 'block', mode: 0o060600, rdev: 0x705, uid: 0, gid: 0 });
    const rules = devicePolicyRules({ nodes: [node], rules: [] }, false)!;
    expect(allows(rules, 'b', 7, 5, 'r')).toBe(true);
    expect(allows(rules, 'b', 7, 5, 'w')).toBe(false);
    expect(allows(rules, 'b', 7, 6, 'r')).toBe(false);
  });
});

const none: DeviceSpec = { nodes: [], rules: [] };

describe('the policy, decided', () => {
  it('is docker\'s defaults, then --device, then --device-cgroup-rule; none at all when privileged', () => {
    const rule = parseDeviceCgroupRule('b 7:* rw');
    expect(devicePolicyRules({ nodes: [], rules: [rule] }, false)).toEqual([...DEFAULT_DEVICE_RULES, rule]);
    expect(devicePolicyRules({ nodes: [], rules: [rule] }, true)).toBeNull();
  });

  it('without a program, refuses what gets around nodev, and --device-cgroup-rule; allows the rest', () => {
    const why = 'no cgroup v2 here';
    expect(refuseWithoutPolicy({ privileged: false, devices: none, bounding: ['CAP_CHOWN'] }, why)).toBeNull();
    expect(refuseWithoutPolicy({ privileged: false, devices: none, bounding: ['CAP_CHOWN', 'CAP_MKNOD'] }, why)?.message).toMatch(/^cannot give the container MKNOD without a device policy \(no cgroup v2 here\)/);
    expect(refuseWithoutPolicy({ privileged: false, devices: none, bounding: ['CAP_SYS_ADMIN', 'CAP_MKNOD'] }, why)?.message).toMatch(/MKNOD and SYS_ADMIN/);
    expect(refuseWithoutPolicy({ privileged: false, devices: { nodes: [], rules: [parseDeviceCgroupRule('c 1:3 r')] }, bounding: [] }, why)?.message).toBe('cannot apply --device-cgroup-rule: no cgroup v2 here');
    expect(refuseWithoutPolicy({ privileged: true, devices: none, bounding: 'all' }, why)).toBeNull();
  });
});

function fakeSys(opts: { failLoad?: string; failAttach?: string; onLoad?: (b: Buffer) => void } = {}): DevicePolicySys & { calls: string[] } {
  const calls: string[] = [];
  const errnos: Record<string, number> = { EPERM: 1, EINVAL: 22, ENOSYS: 38, EBADF: 9, ENOMEM: 12 };
  return {
    calls,
    loadProgram(b) {
      calls.push(`load ${b.length / 8}`);
      opts.onLoad?.(b);
      if (opts.failLoad) throw new SysError('bpf', errnos[opts.failLoad]!, 'BPF_PROG_LOAD');
      return 10;
    },
    openDirectory(path) {
      calls.push(`open ${path}`);
      return 11;
    },
    attach(cg, prog) {
      calls.push(`attach ${cg} ${prog}`);
      if (opts.failAttach) throw new SysError('bpf', errnos[opts.failAttach]!, 'BPF_PROG_ATTACH');
    },
    close(fd) {
      calls.push(`close ${fd}`);
    },
  };
}

const target = (caps: string[], devices = none, privileged = false) => ({
  devices,
  privileged,
  security: { capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] }, noNewPrivileges: true, seccomp: null },
});

describe('applying the policy', () => {
  it('loads the program, attaches it to the group, and closes both fds', () => {
    const sys = fakeSys();
    applyDevicePolicy(target([]), '/sys/fs/cgroup/tsbox/abc', silentLogger, sys);
    expect(sys.calls).toEqual([`load ${compileDeviceProgram(DEFAULT_DEVICE_RULES).length}`, 'open /sys/fs/cgroup/tsbox/abc', 'attach 11 10', 'close 11', 'close 10']);
  });

  it('attaches nothing when privileged', () => {
    const sys = fakeSys();
    applyDevicePolicy(target([], none, true), '/cg', silentLogger, sys);
    expect(sys.calls).toEqual([]);
  });

  it('where bpf() is refused (EPERM, EINVAL, ENOSYS), runs a default container, and refuses MKNOD in one line', () => {
    for (const errno of ['EPERM', 'EINVAL', 'ENOSYS']) {
      const sys = fakeSys({ failAttach: errno });
      expect(() => applyDevicePolicy(target(['CAP_CHOWN']), '/cg', silentLogger, sys)).not.toThrow();
      expect(sys.calls.filter((c) => c.startsWith('close'))).toEqual(['close 11', 'close 10']);
      expect(() => applyDevicePolicy(target(['CAP_MKNOD']), '/cg', silentLogger, fakeSys({ failLoad: errno }))).toThrow(new RegExp(`^cannot give the container MKNOD without a device policy \\(bpf\\(BPF_PROG_LOAD\\): ${errno}`));
    }
  });

  it('without a group, refuses --device-cgroup-rule and says why', () => {
    const sys = fakeSys();
    expect(() => applyDevicePolicy(target([], { nodes: [], rules: [parseDeviceCgroupRule('b 7:* rw')] }), null, silentLogger, sys)).toThrow(
      'cannot apply --device-cgroup-rule: there is no writable cgroup v2 hierarchy on this host',
    );
    expect(sys.calls).toEqual([]);
  });

  it('fails the run on other errors, and when the verifier refuses the program (a bug, not a host without policies)', () => {
    expect(() => applyDevicePolicy(target([]), '/cg', silentLogger, fakeSys({ failAttach: 'ENOMEM' }))).toThrow(/ENOMEM/);
    const refusing = fakeSys();
    refusing.loadProgram = () => {
      throw new VerifierRefusal('bpf', 13, 'BPF_PROG_LOAD: verifier: R0 !read_ok');
    };
    expect(() => applyDevicePolicy(target([]), '/cg', silentLogger, refusing)).toThrow(/R0 !read_ok/);
  });
});
