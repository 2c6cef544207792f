import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { decodeProgram } from '../../src/security/bpf.js';
import { runProgram } from '../../src/security/bpf-interpret.js';
import { buildSecurityPlan, describeSecurityPlan, type SecurityOptions } from '../../src/security/plan.js';
import { describeReturnValue } from '../../src/security/seccomp-profile.js';
import { parseSecurityOpts } from '../../src/security/security-opt.js';
import { X86_64_SYSCALLS } from '../../src/security/syscalls-x86_64.js';
import { ARCH_X86_64 } from './security-helpers.js';

const host = { kernelRelease: '6.18.44-test' };
const options = (over: Partial<SecurityOptions> = {}): SecurityOptions => ({ capAdd: [], capDrop: [], privileged: false, noNewPrivileges: true, seccomp: { kind: 'default' }, ...over });
const outcome = (filter: string, name: string, ...args: number[]) =>
  describeReturnValue(runProgram(decodeProgram(Buffer.from(filter, 'base64')), { nr: X86_64_SYSCALLS[name]!, arch: ARCH_X86_64, args }));

describe('buildSecurityPlan', () => {
  it('defaults: podman caps in bounding/effective/permitted, nothing inheritable or ambient, no_new_privs, default filter', () => {
    const plan = buildSecurityPlan(options(), host);
    expect(plan.capabilities).not.toBe('all');
    const caps = plan.capabilities as Exclude<typeof plan.capabilities, 'all'>;
    expect(caps.bounding).toHaveLength(11);
    expect(caps.effective).toEqual(caps.bounding);
    expect(caps.permitted).toEqual(caps.bounding);
    expect(caps.inheritable).toEqual([]);
    expect(caps.ambient).toEqual([]);
    expect(plan.noNewPrivileges).toBe(true);
    expect(plan.seccomp).not.toBeNull();
    expect(plan.seccomp!.defaultAction).toBe('errno(1)');
    expect(plan.seccomp!.source).toBe('default');
    expect(plan.seccomp!.instructions).toBe(Buffer.from(plan.seccomp!.filter, 'base64').length / 8);
    expect(plan.seccomp!.rules).toBeGreaterThan(300);
    expect(outcome(plan.seccomp!.filter, 'keyctl')).toBe('errno(1)');
    expect(outcome(plan.seccomp!.filter, 'read')).toBe('allow');
  });

  it('is JSON-serialisable: the init gets an equal plan', () => {
    const plan = buildSecurityPlan(options({ capAdd: ['NET_ADMIN'] }), host);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('lets the filter follow the capabilities: --cap-add SYS_ADMIN allows mount', () => {
    const plan = buildSecurityPlan(options({ capAdd: ['sys_admin'] }), host);
    expect(outcome(plan.seccomp!.filter, 'mount')).toBe('allow');
    expect(outcome(buildSecurityPlan(options(), host).seccomp!.filter, 'mount')).toBe('errno(1)');
  });

  it('--privileged: every capability, no filter', () => {
    const plan = buildSecurityPlan(options({ privileged: true }), host);
    expect(plan.capabilities).toBe('all');
    expect(plan.seccomp).toBeNull();
  });

  it('--privileged with an explicit profile keeps the profile', () => {
    const plan = buildSecurityPlan(options({ privileged: true, seccomp: { kind: 'profile', source: 'p.json', profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['uname'], action: 'SCMP_ACT_ERRNO' }] } } }), host);
    expect(plan.seccomp!.source).toBe('p.json');
    expect(outcome(plan.seccomp!.filter, 'uname')).toBe('errno(1)');
    expect(outcome(plan.seccomp!.filter, 'mount')).toBe('allow');
  });

  it('seccomp=unconfined and no-new-privileges=false', () => {
    const plan = buildSecurityPlan(options({ seccomp: { kind: 'unconfined' }, noNewPrivileges: false }), host);
    expect(plan.seccomp).toBeNull();
    expect(plan.noNewPrivileges).toBe(false);
  });

  it('throws UsageError for bad capability names and bad profiles', () => {
    expect(() => buildSecurityPlan(options({ capDrop: ['CAP_FOO'] }), host)).toThrow(UsageError);
    expect(() => buildSecurityPlan(options({ seccomp: { kind: 'profile', source: 'bad.json', profile: { syscalls: [] } } }), host)).toThrow(/seccomp profile bad\.json: defaultAction: Required/);
    expect(() => buildSecurityPlan({ ...options(), capAdd: 'NET_ADMIN' } as unknown as SecurityOptions, host)).toThrow(/invalid security options: capAdd/);
  });

  it('describeSecurityPlan shows sets and counts, not filter bytes', () => {
    const described = describeSecurityPlan(buildSecurityPlan(options(), host)) as Record<string, any>;
    expect(described.capabilities.bounding).toContain('CAP_CHOWN');
    expect(described.seccomp.rules).toBeGreaterThan(300);
    expect(described.seccomp.instructions).toBeGreaterThan(10);
    expect(JSON.stringify(described)).not.toContain(buildSecurityPlan(options(), host).seccomp!.filter.slice(0, 40));
    expect(describeSecurityPlan(buildSecurityPlan(options({ privileged: true }), host))).toMatchObject({ capabilities: 'all (privileged)', seccomp: 'unconfined' });
  });
});

describe('parseSecurityOpts', () => {
  const files: Record<string, string> = { '/p.json': '{"defaultAction":"SCMP_ACT_ALLOW"}', '/broken.json': '{"defaultAction":' };
  const read = (path: string) => {
    if (!(path in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return files[path]!;
  };

  it('reads seccomp and no-new-privileges in docker\'s spellings', () => {
    expect(parseSecurityOpts(['seccomp=unconfined'], read)).toEqual({ seccomp: { kind: 'unconfined' } });
    expect(parseSecurityOpts(['seccomp:/p.json'], read)).toEqual({ seccomp: { kind: 'profile', source: '/p.json', profile: { defaultAction: 'SCMP_ACT_ALLOW' } } });
    expect(parseSecurityOpts(['no-new-privileges'], read)).toEqual({ noNewPrivileges: true });
    expect(parseSecurityOpts(['no-new-privileges=false'], read)).toEqual({ noNewPrivileges: false });
    expect(parseSecurityOpts(['no-new-privileges:true', 'seccomp=unconfined'], read)).toEqual({ noNewPrivileges: true, seccomp: { kind: 'unconfined' } });
  });

  it('says what is wrong', () => {
    expect(() => parseSecurityOpts(['seccomp=/missing.json'], read)).toThrow(/cannot read seccomp profile \/missing\.json: ENOENT/);
    expect(() => parseSecurityOpts(['seccomp=/broken.json'], read)).toThrow(/seccomp profile \/broken\.json is not valid JSON/);
    expect(() => parseSecurityOpts(['seccomp='], read)).toThrow(/missing the profile/);
    expect(() => parseSecurityOpts(['no-new-privileges=maybe'], read)).toThrow(/expected true or false/);
    expect(() => parseSecurityOpts(['apparmor=docker-default'], read)).toThrow(/apparmor is not supported/);
    expect(() => parseSecurityOpts(['frobnicate'], read)).toThrow(UsageError);
  });
});
