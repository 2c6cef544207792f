import { describe, expect, it } from 'vitest';
import { execPlanSchema, initPlanSchema, parentMessageSchema, parsePlanLine } from '../../src/init/plan-schema.js';
import type { InitPlan } from '../../src/init/protocol.js';
import { planMounts } from '../../src/mounts/plan.js';
import { buildSecurityPlan } from '../../src/security/plan.js';
import { MS } from '../../src/sys/mount-flags.js';

/** A plan as runtime/run.ts makes it, from the real planners. */
function realPlan(): InitPlan {
  return {
    containerId: 'a'.repeat(64),
    rootfs: { lower: '/var/lib/tsbox/cache/x', upper: '/run/c/upper', work: '/run/c/work', merged: '/run/c/merged', readOnly: false, nodev: true },
    hostname: 'box',
    mounts: planMounts({
      etcFiles: { hostname: '/run/c/hostname', hosts: '/run/c/hosts', resolvConf: '/run/c/resolv.conf' },
      volumes: [{ source: '/srv', target: '/data', readOnly: true, sourceIsDir: true }],
      tmpfs: [{ target: '/scratch', flags: MS.NOSUID, data: 'size=1m' }],
      cgroup2: true,
      privileged: false,
      hostDevices: [],
      staticInit: null,
      devices: [{ path: '/dev/loop0', type: 'b', major: 7, minor: 0, permissions: 0o660, uid: 0, gid: 6, access: 'rwm' }],
    }),
    process: { args: ['/bin/sh'], env: ['PATH=/bin'], cwd: '/', user: null },
    security: buildSecurityPlan({ capAdd: [], capDrop: [], privileged: false, noNewPrivileges: false, seccomp: { kind: 'default' } }, { kernelRelease: '6.1.0' }),
    debug: false,
    tty: false,
    init: false,
    openat2: true,
  };
}

describe('the init\'s plan, checked when it arrives', () => {
  it('takes the plan the parent makes, unchanged', () => {
    const plan = realPlan();
    expect(plan.mounts.some((m) => m.op === 'mknod')).toBe(true);
    expect(parsePlanLine(initPlanSchema, JSON.stringify(plan), 'plan')).toEqual(plan);
    const privileged = { ...plan, security: buildSecurityPlan({ capAdd: [], capDrop: [], privileged: true, noNewPrivileges: false, seccomp: { kind: 'unconfined' } }) };
    expect(parsePlanLine(initPlanSchema, JSON.stringify(privileged), 'plan')).toEqual(privileged);
  });

  it('refuses a plan it would misread, naming the field', () => {
    const plan = realPlan();
    const bad = (p: unknown) => () => parsePlanLine(initPlanSchema, JSON.stringify(p), 'plan');
    expect(bad({ ...plan, mounts: [{ op: 'bind', source: '/x', target: '/y', readOnly: 'yes', create: 'dir' }] })).toThrow(/invalid plan from tsbox: mounts\.0\.readOnly/);
    expect(bad({ ...plan, process: { ...plan.process, args: [] } })).toThrow(/process\.args/);
    expect(bad({ ...plan, rootfs: { ...plan.rootfs, merged: 'relative' } })).toThrow(/rootfs\.merged/);
    expect(bad({ ...plan, unknownField: 1 })).toThrow(/unrecognized/i);
    const { hostname: _, ...noHostname } = plan;
    expect(bad(noHostname)).toThrow(/hostname/);
    expect(() => parsePlanLine(initPlanSchema, '{"containerId":', 'plan')).toThrow(/not JSON/);
  });

  it('checks every kind of field the way the zod schema it replaced did', () => {
    const plan = realPlan();
    const bad = (p: unknown) => () => parsePlanLine(initPlanSchema, JSON.stringify(p), 'plan');
    const seccomp = plan.security!.seccomp!;
    expect(bad({ ...plan, security: { ...plan.security, seccomp: { ...seccomp, filter: 'not base64!' } } })).toThrow(/security\.seccomp\.filter: Invalid base64/);
    expect(bad({ ...plan, security: { ...plan.security, seccomp: { ...seccomp, filter: 'QUJD' + 'A' } } })).toThrow(/Invalid base64/);
    expect(bad({ ...plan, mounts: [{ op: 'mknod', target: '/dev/x', major: 1.5, minor: 0, mode: 0 }] })).toThrow(/mounts\.0\.major: Expected integer/);
    expect(bad({ ...plan, mounts: [{ op: 'mknod', target: '/dev/x', major: 1, minor: 0, mode: 0, owner: { uid: 0, gid: 0, extra: 1 } }] })).toThrow(/mounts\.0\.owner: Unrecognized key/);
    expect(bad({ ...plan, mounts: [{ op: 'chmod', target: '/x' }] })).toThrow(/mounts\.0\.op: Invalid discriminator/);
    expect(bad({ ...plan, mounts: [{ op: 'bind', source: '/x', target: '/y', readOnly: true, create: 'link' }] })).toThrow(/mounts\.0\.create: Invalid enum/);
    // tsbox run's ids are 64 hex digits, tsbox-runtime's OCI ids letters, digits and _.+-: never a path.
    expect(bad({ ...plan, containerId: '../etc' })).toThrow(/containerId/);
    expect(bad({ ...plan, hostname: null })).toThrow(/hostname: Expected string, received null/);
    expect(bad({ ...plan, security: { ...plan.security, capabilities: 'some' } })).toThrow(/security\.capabilities/);
    expect(bad([])).toThrow(/\(root\): Expected object, received array/);
    // Optional fields stay absent; nullable ones take null.
    const { tty: _t, init: _i, openat2: _o, ...minimal } = plan;
    expect(parsePlanLine(initPlanSchema, JSON.stringify({ ...minimal, security: null }), 'plan')).toEqual({ ...minimal, security: null });
  });

  it('checks the exec plan and the pty message too', () => {
    const exec = { process: { args: ['ps'], env: [], cwd: '/', user: '1000' }, security: null, tty: true, debug: false, openat2: false };
    expect(parsePlanLine(execPlanSchema, JSON.stringify(exec), 'exec plan')).toEqual(exec);
    expect(() => parsePlanLine(execPlanSchema, JSON.stringify({ ...exec, tty: 'yes' }), 'exec plan')).toThrow(/tty/);
    expect(parsePlanLine(parentMessageSchema, '{"t":"pty","index":3}', 'message')).toEqual({ t: 'pty', index: 3 });
    expect(() => parsePlanLine(parentMessageSchema, '{"t":"pty","index":-1}', 'message')).toThrow(/index/);
  });
});
