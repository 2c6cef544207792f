/**
 * The init's side of the process settings: the order of its calls (recording double), the
 * groups --group-add adds, where sysctls are written in the mount plan and under which path,
 * and the plan fields the structural checker accepts and refuses.
 */
import { describe, expect, it } from 'vitest';
import { TsboxError } from '../../src/errors.js';
import { execPlanSchema, initPlanSchema, parsePlanLine } from '../../src/init/plan-schema.js';
import { applyChildLimits, applyLimitsAndUmask, applyOomScoreAdj, raiseHardLimits, resolveProcessUser, withAddedGroups, type ProcessSettingsSys } from '../../src/init/process-settings.js';
import type { ProcessPlan } from '../../src/init/protocol.js';
import { sysctlComponents, sysctlWritePoint } from '../../src/init/sysctl.js';
import { planMounts } from '../../src/mounts/plan.js';

const base: ProcessPlan = { args: ['/bin/sh'], env: [], cwd: '/', user: null };

type Limit = { soft: number | 'unlimited'; hard: number | 'unlimited' };

function recorder(fail: Partial<Record<keyof ProcessSettingsSys, string>> = {}, current: Record<number, Limit> = {}): { sys: ProcessSettingsSys; calls: string[] } {
  const calls: string[] = [];
  const maybeFail = (what: keyof ProcessSettingsSys) => {
    if (fail[what]) throw Object.assign(new Error(`${what}: ${fail[what]}`), { code: fail[what] });
  };
  return {
    calls,
    sys: {
      getRlimit: (r) => current[r] ?? { soft: 1024, hard: 4096 },
      setRlimit: (r, s, h, pid) => (maybeFail('setRlimit'), void calls.push(`rlimit ${pid ? `pid ${pid} ` : ''}${r} ${s} ${h}`)),
      setUmask: (m) => (maybeFail('setUmask'), void calls.push(`umask ${m.toString(8)}`)),
      setOomScoreAdj: (v) => (maybeFail('setOomScoreAdj'), void calls.push(`oom ${v}`)),
    },
  };
}

describe('applying the settings', () => {
  it('sets nothing for a plan without them (inherited, as before)', () => {
    const { sys, calls } = recorder();
    applyOomScoreAdj(base, sys);
    applyLimitsAndUmask(base, sys);
    expect(calls).toEqual([]);
  });

  it('sets the rlimits in the plan\'s order, then the umask; oom_score_adj on its own', () => {
    const { sys, calls } = recorder();
    const p: ProcessPlan = { ...base, rlimits: [{ resource: 7, soft: 512, hard: 1024 }, { resource: 4, soft: 'unlimited', hard: 'unlimited' }], umask: 0o077, oomScoreAdj: -3 };
    applyLimitsAndUmask(p, sys);
    expect(calls).toEqual(['rlimit 7 512 1024', 'rlimit 4 unlimited unlimited', 'umask 77']);
    applyOomScoreAdj(p, sys);
    expect(calls.at(-1)).toBe('oom -3');
    applyLimitsAndUmask({ ...base, umask: 0 }, sys);
    expect(calls.at(-1)).toBe('umask 0');
  });

  it('raises before security only the hard limits the plan raises, keeping the soft ones', () => {
    const { sys, calls } = recorder({}, { 7: { soft: 1024, hard: 4096 }, 4: { soft: 0, hard: 'unlimited' }, 9: { soft: 'unlimited', hard: 'unlimited' }, 6: { soft: 10, hard: 100 } });
    raiseHardLimits({ ...base, rlimits: [
      { resource: 7, soft: 512, hard: 8192 }, // raised: 4096 -> 8192, soft kept at 1024
      { resource: 4, soft: 0, hard: 0 }, // lowered: later
      { resource: 9, soft: 50, hard: 50 }, // lowered from unlimited: later
      { resource: 6, soft: 'unlimited', hard: 'unlimited' }, // raised to unlimited
    ] }, sys);
    expect(calls).toEqual(['rlimit 7 1024 8192', 'rlimit 6 10 unlimited']);
  });

  it('leaves `as` and `data` to the exec-init\'s command, set on its pid', () => {
    const { sys, calls } = recorder();
    const p: ProcessPlan = { ...base, rlimits: [{ resource: 9, soft: 5, hard: 6 }, { resource: 7, soft: 1, hard: 2 }, { resource: 2, soft: 3, hard: 4 }], umask: 0o22 };
    applyLimitsAndUmask(p, sys, { leaveToChild: true });
    expect(calls).toEqual(['rlimit 7 1 2', 'umask 22']);
    applyChildLimits(42, p, sys);
    expect(calls.slice(2)).toEqual(['rlimit pid 42 9 5 6', 'rlimit pid 42 2 3 4']);
  });

  it('names the limit and the reason when the kernel refuses', () => {
    const { sys } = recorder({ setRlimit: 'EPERM' });
    const err = (() => {
      try {
        applyLimitsAndUmask({ ...base, rlimits: [{ resource: 7, soft: 1, hard: 2 }] }, sys);
      } catch (e) {
        return e as TsboxError;
      }
      throw new Error('expected an error');
    })();
    expect(err.message).toMatch(/^cannot set --ulimit nofile=1:2: /);
    expect(err.hint).toMatch(/fs\.nr_open/);
    const oom = recorder({ setOomScoreAdj: 'EACCES' });
    expect(() => applyOomScoreAdj({ ...base, oomScoreAdj: -500 }, oom.sys)).toThrow(/cannot set --oom-score-adj -500/);
  });
});

describe('--group-add', () => {
  const group = 'root:x:0:\naudio:x:29:alice\nvideo:x:44:\nstaff:x:50:alice\n';
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n';
  const read = (path: string) => (path === '/etc/group' ? group : path === '/etc/passwd' ? passwd : null);

  it('adds GIDs and names from the container\'s /etc/group to the user\'s own groups', () => {
    expect(resolveProcessUser({ ...base, user: 'alice' }, read).additionalGids).toEqual([29, 50]);
    expect(resolveProcessUser({ ...base, user: 'alice', additionalGids: [1234, 29], additionalGroupNames: ['video'] }, read).additionalGids).toEqual([29, 50, 1234, 44]);
    expect(resolveProcessUser({ ...base, additionalGids: [1234] }, read)).toMatchObject({ uid: 0, gid: 0, additionalGids: [1234] });
  });

  it('refuses a name the image does not have', () => {
    expect(() => withAddedGroups({ uid: 0, gid: 0, additionalGids: [], home: '/' }, { ...base, additionalGroupNames: ['wheel'] }, group)).toThrow(/group 'wheel' not found in the container's \/etc\/group/);
    expect(() => withAddedGroups({ uid: 0, gid: 0, additionalGids: [], home: '/' }, { ...base, additionalGroupNames: ['wheel'] }, null)).toThrow(/not found/);
  });
});

describe('sysctls in the init', () => {
  it('are written right after /proc is mounted, before /proc/sys is made read-only', () => {
    const mounts = planMounts({ etcFiles: { hostname: '/h', hosts: '/hs', resolvConf: '/r' }, volumes: [], tmpfs: [], cgroup2: true, privileged: false, hostDevices: [], staticInit: null, devices: [] });
    const point = sysctlWritePoint(mounts)!;
    expect(point).toMatchObject({ op: 'mount', fstype: 'proc', target: '/proc' });
    const readOnly = mounts.findIndex((m) => m.op === 'readonly' && m.target === '/proc/sys');
    expect(readOnly).toBeGreaterThan(mounts.indexOf(point));
    expect(sysctlWritePoint(mounts.filter((m) => m !== point))).toBeUndefined();
  });

  it('go to /proc/sys/<name with dots as slashes>, never out of it', () => {
    expect(sysctlComponents('net.ipv4.ip_forward')).toEqual(['proc', 'sys', 'net', 'ipv4', 'ip_forward']);
    expect(sysctlComponents('kernel.shmmax')).toEqual(['proc', 'sys', 'kernel', 'shmmax']);
    for (const bad of ['net..x', 'kernel', 'net.a/b', '..', 'net.....']) expect(() => sysctlComponents(bad), bad).toThrow(/not a sysctl name/);
  });
});

describe('the plan fields', () => {
  const plan = {
    containerId: 'a'.repeat(64),
    rootfs: { lower: '/l', upper: '/u', work: '/w', merged: '/m', readOnly: false, nodev: true },
    hostname: 'box',
    mounts: [],
    process: { ...base, rlimits: [{ resource: 7, soft: 512, hard: 'unlimited' }], additionalGids: [1234], additionalGroupNames: ['audio'], umask: 0o022, oomScoreAdj: -1000 },
    security: null,
    debug: false,
    sysctl: [{ name: 'net.ipv4.ip_forward', value: '1' }],
  };

  it('are taken as sent, by the init and by the exec-init', () => {
    expect(parsePlanLine(initPlanSchema, JSON.stringify(plan), 'plan')).toEqual(plan);
    const exec = { process: plan.process, security: null, tty: false, debug: false };
    expect(parsePlanLine(execPlanSchema, JSON.stringify(exec), 'exec plan')).toEqual(exec);
  });

  it('are refused out of range, naming the field', () => {
    const withProcess = (p: object) => JSON.stringify({ ...plan, process: { ...plan.process, ...p } });
    expect(() => parsePlanLine(initPlanSchema, withProcess({ oomScoreAdj: 1001 }), 'plan')).toThrow(/process\.oomScoreAdj: Number must be between -1000 and 1000/);
    expect(() => parsePlanLine(initPlanSchema, withProcess({ umask: 0o1000 }), 'plan')).toThrow(/process\.umask/);
    expect(() => parsePlanLine(initPlanSchema, withProcess({ rlimits: [{ resource: 16, soft: 1, hard: 1 }] }), 'plan')).toThrow(/process\.rlimits\.0\.resource/);
    expect(() => parsePlanLine(initPlanSchema, withProcess({ rlimits: [{ resource: 7, soft: -1, hard: 1 }] }), 'plan')).toThrow(/process\.rlimits\.0\.soft/);
    expect(() => parsePlanLine(initPlanSchema, withProcess({ additionalGids: [-1] }), 'plan')).toThrow(/process\.additionalGids\.0/);
    expect(() => parsePlanLine(initPlanSchema, JSON.stringify({ ...plan, sysctl: [{ name: 'x' }] }), 'plan')).toThrow(/sysctl\.0\.value: Required/);
  });
});
