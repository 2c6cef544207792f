import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { decodeProgram, OP } from '../../src/security/bpf.js';
import { DEFAULT_CAPABILITIES } from '../../src/security/capabilities.js';
import { defaultSeccompProfile } from '../../src/security/seccomp-default.js';
import type { ArgCondition, ArgOp, SeccompProfile, SeccompRule } from '../../src/security/seccomp-profile.js';
import { X86_64_SYSCALLS } from '../../src/security/syscalls-x86_64.js';
import { ARCH_AARCH64, ARCH_I386, ARCH_X86_64, compile, expectedReturn, rng, valuesAround } from './security-helpers.js';

const kernel = { major: 6, minor: 18 };
const defaultCaps = new Set(DEFAULT_CAPABILITIES);
const x86 = (nr: number, ...args: (number | bigint)[]) => ({ nr, arch: ARCH_X86_64, args });
const nr = (name: string) => X86_64_SYSCALLS[name]!;

describe('the x86_64 syscall table', () => {
  it('matches numbers known from the kernel', () => {
    // A few independent facts from arch/x86/entry/syscalls/syscall_64.tbl.
    expect([nr('read'), nr('getcwd'), nr('keyctl'), nr('unshare'), nr('clone3'), nr('fchmodat2'), nr('listns')]).toEqual([0, 79, 250, 272, 435, 452, 470]);
    expect(new Set(Object.values(X86_64_SYSCALLS)).size).toBe(Object.keys(X86_64_SYSCALLS).length);
  });
});

describe('default profile, compiled', () => {
  const filter = compile(defaultSeccompProfile(defaultCaps, kernel));

  it('allows what ordinary programs and Node need', () => {
    for (const name of ['read', 'write', 'openat', 'execve', 'futex', 'epoll_pwait', 'mmap', 'close_range', 'fcntl', 'rt_sigaction', 'exit_group', 'fchmodat2', 'mseal', 'getcwd', 'uname', 'capset', 'prctl', 'chroot', 'ptrace']) {
      expect(filter.outcome(x86(nr(name))), name).toBe('allow');
    }
  });

  it('answers EPERM for the dangerous syscalls', () => {
    const denied = [
      'keyctl', 'add_key', 'request_key', 'bpf', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module',
      'open_by_handle_at', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'mount', 'umount2', 'unshare',
      'setns', 'pivot_root', 'reboot', 'swapon', 'swapoff', 'acct', 'perf_event_open', 'quotactl', 'lookup_dcookie', 'kcmp',
      'fsopen', 'move_mount', 'open_tree', 'sethostname', 'syslog', 'settimeofday', 'iopl', 'uselib', 'vhangup', 'lsm_get_self_attr',
    ];
    for (const name of denied) expect(filter.outcome(x86(nr(name))), name).toBe('errno(1)');
  });

  it('kills other architectures and the x32 ABI before looking at the number', () => {
    expect(filter.outcome({ nr: 0, arch: ARCH_I386 })).toBe('kill-process');
    expect(filter.outcome({ nr: 3, arch: ARCH_AARCH64 })).toBe('kill-process');
    expect(filter.outcome(x86(0x40000000 + 0))).toBe('kill-process');
    expect(filter.outcome(x86(0x40000000 + 59))).toBe('kill-process');
    expect(filter.outcome(x86(0x7fffffff))).toBe('kill-process');
  });

  it('answers ENOSYS for syscalls newer than the profile, and for nr -1', () => {
    for (const n of [471, 500, 1000, 0x3fffffff, -1]) expect(filter.outcome(x86(n)), String(n)).toBe('errno(38)');
    // ... but EPERM for a known, unlisted one below.
    expect(filter.outcome(x86(467))).toBe('errno(1)'); // open_tree_attr, without CAP_SYS_ADMIN
    expect(filter.outcome(x86(461))).toBe('errno(1)');
  });

  it('allows clone for threads and forks, not for new namespaces', () => {
    const threadFlags = 0x3d0f00;
    expect(filter.outcome(x86(nr('clone'), threadFlags))).toBe('allow');
    expect(filter.outcome(x86(nr('clone'), 17))).toBe('allow');
    for (const ns of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
      expect(filter.outcome(x86(nr('clone'), ns | 17)), ns.toString(16)).toBe('errno(1)');
    }
    // Bits in the upper half are outside the mask.
    expect(filter.outcome(x86(nr('clone'), (1n << 40n) | 17n))).toBe('allow');
    expect(filter.outcome(x86(nr('clone3')))).toBe('errno(38)');
  });

  it('allows only the harmless personality values, compared on all 64 bits', () => {
    for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff]) expect(filter.outcome(x86(nr('personality'), v))).toBe('allow');
    for (const v of [0x0040000, 0x1, 0x20001, 1n << 32n, 0xffffffffffffffffn]) expect(filter.outcome(x86(nr('personality'), v))).toBe('errno(1)');
  });

  it('refuses AF_VSOCK sockets only', () => {
    expect(filter.outcome(x86(nr('socket'), 2, 1))).toBe('allow');
    expect(filter.outcome(x86(nr('socket'), 40, 1))).toBe('errno(1)');
    expect(filter.outcome(x86(nr('socket'), (1n << 32n) | 40n))).toBe('allow');
  });

  it('agrees with the profile semantics on every syscall number', () => {
    const profile = defaultSeccompProfile(defaultCaps, kernel);
    for (let n = 0; n <= 520; n++) expect(filter.run(x86(n)), String(n)).toBe(expectedReturn(profile, x86(n)));
  });

  it('with CAP_SYS_ADMIN, allows mount, unshare, clone with namespaces, and clone3', () => {
    const admin = compile(defaultSeccompProfile(new Set([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']), kernel));
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'clone3', 'bpf']) expect(admin.outcome(x86(nr(name))), name).toBe('allow');
    expect(admin.outcome(x86(nr('clone'), 0x10000000 | 17))).toBe('allow');
    expect(admin.outcome(x86(nr('keyctl')))).toBe('errno(1)');
  });

  it('without CAP_SYS_CHROOT, denies chroot; on kernels before 4.8, denies ptrace', () => {
    const caps = new Set(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'));
    expect(compile(defaultSeccompProfile(caps, kernel)).outcome(x86(nr('chroot')))).toBe('errno(1)');
    expect(compile(defaultSeccompProfile(defaultCaps, { major: 4, minor: 4 })).outcome(x86(nr('ptrace')))).toBe('errno(1)');
  });

  it('stays far below the kernel limit of 4096 instructions', () => {
    expect(filter.bytes.length / 8).toBeLessThan(1000);
  });
});

describe('argument conditions on 64-bit values', () => {
  const ops: ArgOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked-eq'];
  const constants = [0n, 1n, 40n, 0xffffffffn, 1n << 32n, (1n << 32n) + 7n, 0x8000000000000000n, 0xfffffffffffffffen, 0x123456789abcdef0n];
  const random = rng(42);

  for (const op of ops) {
    it(`${op}: the filter agrees with the 64-bit comparison`, () => {
      for (const value of constants) {
        for (const arg of [0, 3, 5]) {
          const cond: ArgCondition = op === 'masked-eq' ? { arg, op, mask: 0xff0000ff000000ffn, value: value & 0xff0000ff000000ffn } : { arg, op, value };
          const profile: SeccompProfile = {
            defaultAction: { kind: 'errno', errno: 1 },
            rules: [{ syscall: 'ioctl', nr: 16, action: { kind: 'allow' }, when: [cond] }],
            knownUpTo: 470,
            flags: 0,
          };
          const f = compile(profile);
          for (const x of valuesAround(value, random)) {
            const args = [0, 0, 0, 0, 0, 0].map((_, i) => (i === arg ? x : BigInt(i) << 33n));
            const data = x86(16, ...args);
            expect(f.run(data), `${op} ${value} arg${arg}=${x}`).toBe(expectedReturn(profile, data));
          }
        }
      }
    });
  }

  it('ANDs the conditions of a rule and tries rules in order', () => {
    const profile: SeccompProfile = {
      defaultAction: { kind: 'errno', errno: 1 },
      rules: [
        { syscall: 'ioctl', nr: 16, action: { kind: 'errno', errno: 13 }, when: [{ arg: 1, op: 'eq', value: 0x5401n }, { arg: 0, op: 'lt', value: 3n }] },
        { syscall: 'ioctl', nr: 16, action: { kind: 'allow' }, when: [{ arg: 1, op: 'ne', value: 0x5412n }] },
        { syscall: 'ioctl', nr: 16, action: { kind: 'trap' }, when: [] },
      ],
      knownUpTo: 470,
      flags: 0,
    };
    const f = compile(profile);
    expect(f.outcome(x86(16, 1, 0x5401))).toBe('errno(13)');
    expect(f.outcome(x86(16, 5, 0x5401))).toBe('allow');
    expect(f.outcome(x86(16, 1, 0x5412))).toBe('trap');
    expect(f.outcome(x86(17))).toBe('errno(1)');
  });

  it('an unconditional rule listed first does not hide conditional rules', () => {
    const rules: SeccompRule[] = [
      { syscall: 'kill', nr: 62, action: { kind: 'allow' }, when: [] },
      { syscall: 'kill', nr: 62, action: { kind: 'errno', errno: 1 }, when: [{ arg: 0, op: 'eq', value: 1n }] },
    ];
    const f = compile({ defaultAction: { kind: 'kill-process' }, rules, knownUpTo: 470, flags: 0 });
    expect(f.outcome(x86(62, 1, 9))).toBe('errno(1)');
    expect(f.outcome(x86(62, 2, 9))).toBe('allow');
  });
});

describe('large profiles', () => {
  /** Every syscall gets several conditional rules: far too long for 8-bit jump offsets. */
  function bigProfile(rulesPerSyscall: number, syscalls: number, seed: number): SeccompProfile {
    const random = rng(seed);
    const ops: ArgOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked-eq'];
    const rules: SeccompRule[] = [];
    for (let n = 0; n < syscalls; n++) {
      for (let r = 0; r < rulesPerSyscall; r++) {
        const op = ops[Math.floor(random() * ops.length)]!;
        const value = BigInt(Math.floor(random() * 16));
        const when: ArgCondition[] = [op === 'masked-eq' ? { arg: r % 6, op, mask: 0xfn, value: value & 0xfn } : { arg: r % 6, op, value }];
        const actions = [{ kind: 'allow' }, { kind: 'errno', errno: 10 + r }, { kind: 'trap' }, { kind: 'log' }] as const;
        rules.push({ syscall: `s${n * 3}`, nr: n * 3, action: actions[Math.floor(random() * actions.length)]!, when });
      }
    }
    return { defaultAction: { kind: 'errno', errno: 1 }, rules, knownUpTo: syscalls * 3, flags: 0 };
  }

  it('uses long jumps and still computes the same results', () => {
    const profile = bigProfile(3, 150, 7);
    const f = compile(profile);
    const program = decodeProgram(f.bytes);
    expect(program.length).toBeGreaterThan(1000);
    expect(program.some((i) => i.code === OP.JA)).toBe(true);
    const random = rng(99);
    for (let n = 0; n < 460; n++) {
      for (let t = 0; t < 6; t++) {
        const args = [0, 1, 2, 3, 4, 5].map(() => BigInt(Math.floor(random() * 18)));
        const data = x86(n, ...args);
        expect(f.run(data), `nr ${n} args ${args}`).toBe(expectedReturn(profile, data));
      }
    }
  });

  it('refuses a profile that needs more than 4096 instructions', () => {
    expect(() => compile(bigProfile(6, 200, 3))).toThrow(UsageError);
    expect(() => compile(bigProfile(6, 200, 3))).toThrow(/4096/);
  });
});

describe('profiles whose default allows', () => {
  it('lets unknown and newer syscalls through and denies what is listed', () => {
    const profile: SeccompProfile = {
      defaultAction: { kind: 'allow' },
      rules: [{ syscall: 'getcwd', nr: 79, action: { kind: 'errno', errno: 13 }, when: [] }],
      knownUpTo: 79,
      flags: 0,
    };
    const f = compile(profile);
    expect(f.outcome(x86(79))).toBe('errno(13)');
    expect(f.outcome(x86(80))).toBe('allow');
    expect(f.outcome(x86(600))).toBe('allow');
    expect(f.outcome({ nr: 79, arch: ARCH_I386 })).toBe('kill-process');
  });

  it('compiles an empty rule list', () => {
    const f = compile({ defaultAction: { kind: 'errno', errno: 1 }, rules: [], knownUpTo: 10, flags: 0 });
    expect(f.outcome(x86(3))).toBe('errno(1)');
    expect(f.outcome(x86(11))).toBe('errno(38)');
  });
});
