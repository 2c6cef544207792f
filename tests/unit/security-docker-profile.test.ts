import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_CAPABILITIES } from '../../src/security/capabilities.js';
import { dockerProfileToSeccomp, parseKernel, seccompProfileToDocker } from '../../src/security/docker-profile.js';
import { defaultSeccompProfile } from '../../src/security/seccomp-default.js';
import { X86_64_SYSCALLS } from '../../src/security/syscalls-x86_64.js';
import { ARCH_X86_64, compile, expectedReturn, rng } from './security-helpers.js';

const ctx = { caps: new Set(DEFAULT_CAPABILITIES), kernel: { major: 6, minor: 18, patch: 0 } };
const nr = (name: string) => X86_64_SYSCALLS[name]!;
const x86 = (n: number, ...args: (number | bigint)[]) => ({ nr: n, arch: ARCH_X86_64, args });
const convert = (json: unknown, c = ctx) => dockerProfileToSeccomp(json, 'test.json', c);

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('docker profile schema errors', () => {
  const cases: [string, unknown, RegExp][] = [
    ['missing defaultAction', { syscalls: [] }, /^seccomp profile test\.json: defaultAction: Required$/],
    ['unknown action', { defaultAction: 'SCMP_ACT_DENY' }, /defaultAction: Invalid enum value.*SCMP_ACT_ALLOW.*received 'SCMP_ACT_DENY'/],
    ['misspelt field', { defaultAction: 'SCMP_ACT_ERRNO', syscall: [] }, /Unrecognized key\(s\) in object: 'syscall'/],
    ['not an object', ['SCMP_ACT_ALLOW'], /^seccomp profile test\.json: Expected object, received array$/],
    ['syscall without names', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ action: 'SCMP_ACT_ALLOW' }] }, /syscalls\[0\]: needs "names"/],
    ['bad op', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'EQ' }] }] }, /syscalls\[0\]\.args\[0\]\.op: Invalid enum value/],
    ['arg index 6', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.index: must be 0-5/],
    ['negative value', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.value: must not be negative/],
    ['errnoRet too big', { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, /defaultErrnoRet: must be at most 65535/],
    ['bad minKernel', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: 'four' } }] }, /includes\.minKernel: must be a kernel version/],
    ['errnoRet with allow', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }, /syscalls\[0\]: errnoRet is only meaningful with SCMP_ACT_ERRNO/],
    ['notify', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, /syscalls\[0\]: SCMP_ACT_NOTIFY needs a seccomp agent/],
    ['listener', { defaultAction: 'SCMP_ACT_ERRNO', listenerPath: '/run/agent.sock' }, /listenerPath: seccomp agents/],
    ['unknown flag', { defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_FAST'] }, /flags\[0\]: unknown flag "SECCOMP_FILTER_FLAG_FAST"/],
  ];
  for (const [what, json, message] of cases) {
    it(`${what}: one line saying what is wrong, with a hint`, () => {
      const err = usageError(() => convert(json));
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('\n');
      expect(err.hint).toMatch(/docker's seccomp profile format/);
    });
  }
});

describe('docker profile meaning', () => {
  it('reads defaultAction, defaultErrnoRet, actions, errnoRet', () => {
    const { profile } = convert({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 13,
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: 2 },
        { names: ['uname'], action: 'SCMP_ACT_ERRNO' },
        { name: 'getpid', action: 'SCMP_ACT_KILL' },
        { names: ['gettid'], action: 'SCMP_ACT_TRAP' },
        { names: ['getppid'], action: 'SCMP_ACT_LOG' },
      ],
    });
    const f = compile(profile);
    expect(f.outcome(x86(nr('read')))).toBe('allow');
    expect(f.outcome(x86(nr('write')))).toBe('allow');
    expect(f.outcome(x86(nr('getcwd')))).toBe('errno(2)');
    expect(f.outcome(x86(nr('uname')))).toBe('errno(1)');
    expect(f.outcome(x86(nr('getpid')))).toBe('kill-thread');
    expect(f.outcome(x86(nr('gettid')))).toBe('trap');
    expect(f.outcome(x86(nr('getppid')))).toBe('log');
    expect(f.outcome(x86(nr('close')))).toBe('errno(13)');
  });

  it('answers ENOSYS above the highest syscall the profile names', () => {
    const { profile } = convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'close_range', 'chown32'], action: 'SCMP_ACT_ALLOW' }] });
    expect(profile.knownUpTo).toBe(436);
    const f = compile(profile);
    expect(f.outcome(x86(435))).toBe('errno(1)');
    expect(f.outcome(x86(437))).toBe('errno(38)');
  });

  it('skips names of other architectures and reports them', () => {
    const { profile, skippedNames } = convert({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'chown32', 'arm_fadvise64_64'], action: 'SCMP_ACT_ALLOW' }] });
    expect(skippedNames).toEqual(['arm_fadvise64_64', 'chown32']);
    expect(profile.rules.map((r) => r.syscall)).toEqual(['read']);
  });

  it('applies includes and excludes: caps, arches, minKernel', () => {
    const json = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
        { names: ['sync_file_range'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['ppc64le'] } },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
        { names: ['kcmp'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '7.0' } },
        { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['modify_ldt'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
      ],
    };
    const f = compile(convert(json).profile);
    expect(f.outcome(x86(nr('mount')))).toBe('errno(1)');
    expect(f.outcome(x86(nr('chroot')))).toBe('allow');
    expect(f.outcome(x86(nr('arch_prctl')))).toBe('allow');
    expect(f.outcome(x86(nr('sync_file_range')))).toBe('errno(1)');
    expect(f.outcome(x86(nr('ptrace')))).toBe('allow');
    expect(f.outcome(x86(nr('kcmp')))).toBe('errno(1)');
    expect(f.outcome(x86(nr('clone3')))).toBe('errno(38)');
    expect(f.outcome(x86(nr('modify_ldt')))).toBe('errno(1)');

    const admin = compile(convert(json, { ...ctx, caps: new Set([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']) }).profile);
    expect(admin.outcome(x86(nr('mount')))).toBe('allow');
    expect(admin.outcome(x86(nr('clone3')))).toBe('errno(1)');
    const oldKernel = compile(convert(json, { ...ctx, kernel: parseKernel('4.4.0-generic') }).profile);
    expect(oldKernel.outcome(x86(nr('ptrace')))).toBe('errno(1)');
  });

  it('reads MASKED_EQ as value = mask, valueTwo = expected', () => {
    const { profile } = convert({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] }],
    });
    const f = compile(profile);
    expect(f.outcome(x86(nr('clone'), 17))).toBe('allow');
    expect(f.outcome(x86(nr('clone'), 0x10000000 | 17))).toBe('errno(1)');
  });

  it('ANDs conditions on different arguments, ORs conditions on the same argument', () => {
    const and = compile(convert({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }, { index: 1, value: 1, op: 'SCMP_CMP_EQ' }] }],
    }).profile);
    expect(and.outcome(x86(nr('socket'), 2, 1))).toBe('allow');
    expect(and.outcome(x86(nr('socket'), 2, 2))).toBe('errno(1)');
    expect(and.outcome(x86(nr('socket'), 10, 1))).toBe('errno(1)');

    const or = compile(convert({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
    }).profile);
    expect(or.outcome(x86(nr('personality'), 0))).toBe('allow');
    expect(or.outcome(x86(nr('personality'), 8))).toBe('allow');
    expect(or.outcome(x86(nr('personality'), 9))).toBe('errno(1)');
  });

  it('reads 0xffffffffffffffff (which JSON rounds to 2^64) as all ones', () => {
    const { profile } = convert(JSON.parse('{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}'));
    const f = compile(profile);
    expect(f.outcome(x86(nr('ioctl'), 0, 0xffffffffffffffffn))).toBe('allow');
    expect(f.outcome(x86(nr('ioctl'), 0, 0xfffffffffffffffen))).toBe('errno(1)');
  });

  it('accepts the null fields Go writes, comments, archMap and flags', () => {
    const { profile } = convert({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: null,
      architectures: null,
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null }],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: null, comment: 'reading is fine', includes: {}, excludes: { caps: null } }],
    });
    expect(profile.flags).toBe(6);
    expect(compile(profile).outcome(x86(0))).toBe('allow');
  });
});

describe('round trip: tsbox profile → docker JSON → tsbox profile', () => {
  for (const caps of [DEFAULT_CAPABILITIES, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']]) {
    it(`the default profile (${caps.length} caps) survives, through JSON text, with the same filter`, () => {
      const original = defaultSeccompProfile(new Set(caps), ctx.kernel);
      const text = JSON.stringify(seccompProfileToDocker(original));
      const back = convert(JSON.parse(text), { ...ctx, caps: new Set(caps) }).profile;
      expect(back.rules.length).toBe(original.rules.length);
      expect(back.defaultAction).toEqual(original.defaultAction);
      // docker's format has no field for "reviewed up to": the reimported profile knows up to
      // the highest syscall it names (listns, 470, named for its ENOSYS rule), the same boundary.
      expect(back.knownUpTo).toBe(470);
      const a = compile(original);
      const b = compile({ ...back, knownUpTo: original.knownUpTo });
      expect(b.bytes.equals(a.bytes)).toBe(true);
      const random = rng(5);
      for (let n = -1; n < 480; n++) {
        const data = x86(n, BigInt(Math.floor(random() * 0x80000000)) * 0x400n, 40, 0);
        expect(b.run(data), String(n)).toBe(expectedReturn(original, data));
      }
    });
  }

  it('refuses to write a rule docker\'s format would read differently', () => {
    expect(() => seccompProfileToDocker({
      defaultAction: { kind: 'errno', errno: 1 },
      rules: [{ syscall: 'read', nr: 0, action: { kind: 'allow' }, when: [{ arg: 0, op: 'ge', value: 1n }, { arg: 0, op: 'le', value: 5n }] }],
      knownUpTo: 470,
      flags: 0,
    })).toThrow(/cannot test one argument twice/);
  });
});

describe('parseKernel', () => {
  it('reads uname -r', () => {
    expect(parseKernel('6.18.44-fc-v595')).toEqual({ major: 6, minor: 18, patch: 44 });
    expect(parseKernel('5.4')).toEqual({ major: 5, minor: 4, patch: 0 });
    expect(() => parseKernel('linux')).toThrow();
  });
});
