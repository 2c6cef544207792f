import { describe, expect, it } from 'vitest';
import { resolveCapabilities, runSecuritySteps, type CapabilityMasks, type SecuritySys } from '../../src/security/apply-steps.js';
import { buildSecurityPlan, type SecurityOptions, type SecurityPlan } from '../../src/security/plan.js';

const host = { kernelRelease: '6.18.0' };
const plan = (over: Partial<SecurityOptions> = {}): SecurityPlan =>
  buildSecurityPlan({ capAdd: [], capDrop: [], privileged: false, noNewPrivileges: true, seccomp: { kind: 'default' }, ...over }, host);

/** Records every call; can be told to fail one. */
function recorder(lastCap = 40, failOn?: string, held = (1n << BigInt(lastCap + 1)) - 1n) {
  const calls: string[] = [];
  const masks: CapabilityMasks[] = [];
  const filters: { bytes: number; flags: number }[] = [];
  const rec = (name: string) => (...args: unknown[]) => {
    calls.push(args.length ? `${name}(${args.map((a) => (Buffer.isBuffer(a) ? 'filter' : JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)))).join(', ')})` : name);
    if (name === failOn) throw new Error(`${name} failed`);
  };
  const sys: SecuritySys = {
    capLastCap: () => lastCap,
    capget: () => ({ effective: held, permitted: held, inheritable: 0n }),
    capbsetDrop: rec('capbsetDrop'),
    setKeepCaps: rec('setKeepCaps'),
    setgroups: rec('setgroups'),
    setgid: rec('setgid'),
    setuid: rec('setuid'),
    capset: (m) => {
      masks.push(m);
      rec('capset')();
    },
    ambientClearAll: rec('ambientClearAll'),
    ambientRaise: rec('ambientRaise'),
    setNoNewPrivs: rec('setNoNewPrivs'),
    seccompSetFilter: (program, flags) => {
      filters.push({ bytes: program.length, flags });
      rec('seccompSetFilter')();
    },
  };
  return { sys, calls, masks, filters };
}

const names = (calls: string[]) => calls.map((c) => c.replace(/\(.*$/, ''));
const DEFAULT_MASK = (1n << 0n) | (1n << 1n) | (1n << 3n) | (1n << 4n) | (1n << 5n) | (1n << 6n) | (1n << 7n) | (1n << 8n) | (1n << 10n) | (1n << 18n) | (1n << 31n);

describe('runSecuritySteps', () => {
  it('runs the steps in order, seccomp last, for root', () => {
    const r = recorder();
    runSecuritySteps(plan(), { uid: 0, gid: 0, additionalGids: [10] }, r.sys);
    const order = [...new Set(names(r.calls))];
    expect(order).toEqual(['capbsetDrop', 'setKeepCaps', 'setgroups', 'setgid', 'setuid', 'capset', 'ambientClearAll', 'setNoNewPrivs', 'seccompSetFilter']);
    // 41 capabilities, 11 kept.
    expect(r.calls.filter((c) => c.startsWith('capbsetDrop'))).toHaveLength(30);
    expect(r.calls).not.toContain('capbsetDrop(0)');
    expect(r.calls).toContain('capbsetDrop(21)');
    expect(r.calls).toContain('setgroups([10])');
    expect(r.masks).toEqual([{ effective: DEFAULT_MASK, permitted: DEFAULT_MASK, inheritable: 0n }]);
    expect(r.filters).toHaveLength(1);
    expect(r.filters[0]!.flags & 1).toBe(1); // TSYNC
  });

  it("threads 'calling' (the exec-init, which posix_spawns from this thread): the filter without TSYNC, the rest unchanged", () => {
    const all = recorder();
    const calling = recorder();
    runSecuritySteps(plan(), { uid: 0, gid: 0, additionalGids: [] }, all.sys);
    runSecuritySteps(plan(), { uid: 0, gid: 0, additionalGids: [] }, calling.sys, { threads: 'calling' });
    expect(calling.calls).toEqual(all.calls);
    expect(calling.filters[0]!.flags).toBe(all.filters[0]!.flags & ~1);
  });

  it('loads the filter first when no_new_privs is off (it then needs CAP_SYS_ADMIN, which is dropped later)', () => {
    const r = recorder();
    runSecuritySteps(plan({ noNewPrivileges: false }), { uid: 0, gid: 0, additionalGids: [] }, r.sys);
    expect(names(r.calls)[0]).toBe('seccompSetFilter');
    expect(r.calls).not.toContain('setNoNewPrivs');
    expect(r.filters).toHaveLength(1);
  });

  it('loads nothing when unconfined', () => {
    const r = recorder();
    runSecuritySteps(plan({ seccomp: { kind: 'unconfined' } }), { uid: 0, gid: 0, additionalGids: [] }, r.sys);
    expect(r.filters).toHaveLength(0);
    expect(r.calls).toContain('setNoNewPrivs');
  });

  it('gives a non-root user no capabilities, but keeps the bounding set', () => {
    const r = recorder();
    runSecuritySteps(plan(), { uid: 1000, gid: 1000, additionalGids: [] }, r.sys);
    expect(r.masks).toEqual([{ effective: 0n, permitted: 0n, inheritable: 0n }]);
    expect(r.calls.filter((c) => c.startsWith('capbsetDrop'))).toHaveLength(30);
    expect(r.calls).toContain('setuid(1000)');
  });

  it('privileged: keeps every bit the kernel knows, drops nothing', () => {
    const r = recorder(37);
    runSecuritySteps(plan({ privileged: true }), { uid: 0, gid: 0, additionalGids: [] }, r.sys);
    expect(r.calls.some((c) => c.startsWith('capbsetDrop'))).toBe(false);
    const all = (1n << 38n) - 1n;
    expect(r.masks).toEqual([{ effective: all, permitted: all, inheritable: 0n }]);
    expect(r.filters).toHaveLength(0);
  });

  it('privileged: only what tsbox itself holds', () => {
    const held = ((1n << 41n) - 1n) & ~(1n << 24n);
    const r = recorder(40, undefined, held);
    runSecuritySteps(plan({ privileged: true }), { uid: 0, gid: 0, additionalGids: [] }, r.sys);
    expect(r.masks).toEqual([{ effective: held, permitted: held, inheritable: 0n }]);
    expect(r.calls).toEqual(expect.arrayContaining(['capbsetDrop(24)']));
  });

  it('refuses, before any change, capabilities tsbox does not hold', () => {
    const r = recorder(40, undefined, ((1n << 41n) - 1n) & ~(1n << 12n));
    expect(() => runSecuritySteps(plan({ capAdd: ['NET_ADMIN'] }), { uid: 0, gid: 0, additionalGids: [] }, r.sys)).toThrow('capabilities not available to tsbox itself: CAP_NET_ADMIN');
    expect(r.calls).toEqual([]);
  });

  it('stops at the first failing call', () => {
    const r = recorder(40, 'setuid');
    expect(() => runSecuritySteps(plan(), { uid: 1000, gid: 1000, additionalGids: [] }, r.sys)).toThrow('setuid failed');
    expect(r.calls).not.toContain('capset');
    expect(r.filters).toHaveLength(0);
  });
});

describe('resolveCapabilities', () => {
  const ALL = (1n << 64n) - 1n;
  const sets = { bounding: ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_CHECKPOINT_RESTORE'], permitted: ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_CHECKPOINT_RESTORE'], inheritable: [], ambient: [] };

  it('leaves out bits the running kernel does not know', () => {
    const r = resolveCapabilities(sets, 0, 39, ALL);
    expect(r.bounding).toEqual([0, 13]);
    expect(r.masks.effective).toBe((1n << 0n) | (1n << 13n));
  });

  it('raises ambient capabilities for a non-root user in all sets', () => {
    const r = resolveCapabilities({ ...sets, ambient: ['CAP_NET_RAW'] }, 1000, 40, ALL);
    expect(r.ambient).toEqual([13]);
    expect(r.masks).toEqual({ effective: 1n << 13n, permitted: 1n << 13n, inheritable: 1n << 13n });
  });

  it('ignores ambient capabilities outside the bounding set', () => {
    expect(resolveCapabilities({ ...sets, ambient: ['CAP_SYS_ADMIN'] }, 1000, 40, ALL).ambient).toEqual([]);
  });

  it('privileged non-root: bounding all, nothing effective', () => {
    const r = resolveCapabilities('all', 1000, 40, ALL);
    expect(r.bounding).toHaveLength(41);
    expect(r.masks.effective).toBe(0n);
  });
});
