/**
 * The pure parts of --ulimit, --sysctl, --group-add, --oom-score-adj and --umask: docker's
 * syntax and names, the RLIMIT_* numbers they map to, docker's sysctl rules, and the plan
 * fields the init and the exec-init are given.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_UMASK, INHERITED_PROCESS_SETTINGS, parseGroupAdd, parseOomScoreAdj, parseProcessSettings, parseUmask, processPlanSettings } from '../../src/spec/process-settings.js';
import { parseSysctl, parseSysctls, sysctlRefusal } from '../../src/spec/sysctl.js';
import { parseUlimit, parseUlimits, ULIMIT_NAMES, ulimitName } from '../../src/spec/ulimit.js';
import { RLIMIT } from '../../src/sys/rlimit-flags.js';

const oneLine = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error('expected a UsageError');
};

describe('--ulimit', () => {
  it('maps docker\'s names to the kernel\'s RLIMIT_* numbers', () => {
    // asm-generic/resource.h
    const want: Record<string, number> = { cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9, locks: 10, sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15 };
    expect(ULIMIT_NAMES).toEqual(want);
    expect(RLIMIT.NOFILE).toBe(7);
    expect(ulimitName(7)).toBe('nofile');
    expect(ulimitName(99)).toBe('resource 99');
  });

  it('reads SOFT[:HARD]: soft alone sets both, -1 and unlimited are no limit', () => {
    expect(parseUlimit('nofile=512:1024')).toEqual({ resource: 7, soft: 512, hard: 1024 });
    expect(parseUlimit('nproc=300')).toEqual({ resource: 6, soft: 300, hard: 300 });
    expect(parseUlimit('core=-1')).toEqual({ resource: 4, soft: 'unlimited', hard: 'unlimited' });
    expect(parseUlimit('memlock=65536:unlimited')).toEqual({ resource: 8, soft: 65536, hard: 'unlimited' });
    expect(parseUlimit('stack=0')).toEqual({ resource: 3, soft: 0, hard: 0 });
  });

  it('refuses what setrlimit would, and what is not docker\'s syntax, in one line', () => {
    expect(oneLine(() => parseUlimit('nofile=2048:1024'))).toMatch(/soft limit 2048 is above the hard limit 1024/);
    expect(oneLine(() => parseUlimit('nofile=unlimited:1024'))).toMatch(/above the hard limit/);
    expect(oneLine(() => parseUlimit('nofiles=1'))).toMatch(/unknown limit 'nofiles'/);
    expect(oneLine(() => parseUlimit('nofile'))).toMatch(/expected NAME=SOFT\[:HARD\]/);
    expect(oneLine(() => parseUlimit('=1'))).toMatch(/expected NAME=SOFT/);
    expect(oneLine(() => parseUlimit('nofile=1:2:3'))).toMatch(/expected NAME=SOFT/);
    expect(oneLine(() => parseUlimit('nofile=1k'))).toMatch(/'1k' is not a whole number/);
    expect(oneLine(() => parseUlimit('nofile=-2'))).toMatch(/not a whole number/);
    expect(oneLine(() => parseUlimit('nofile=')).toString()).toMatch(/not a whole number/);
    expect(oneLine(() => parseUlimit('fsize=99999999999999999999'))).toMatch(/too large/);
  });

  it('keeps one limit per resource, the last given', () => {
    expect(parseUlimits(['nofile=10', 'core=0', 'nofile=20:30'])).toEqual([{ resource: 7, soft: 20, hard: 30 }, { resource: 4, soft: 0, hard: 0 }]);
  });
});

describe('--sysctl: docker\'s rules', () => {
  it('allows the IPC namespace\'s sysctls (always private in tsbox), whatever the network', () => {
    for (const name of ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'fs.mqueue.msg_max', 'fs.mqueue.queues_max']) {
      for (const netns of ['private', 'host', 'shared'] as const) expect(sysctlRefusal(name, netns), `${name} ${netns}`).toBeNull();
    }
  });

  it('allows net.* only in a network namespace of the container\'s own', () => {
    expect(sysctlRefusal('net.ipv4.ip_forward', 'private')).toBeNull();
    expect(sysctlRefusal('net.ipv4.conf.eth0.rp_filter', 'private')).toBeNull();
    expect(sysctlRefusal('net.ipv4.ip_forward', 'host')).toMatch(/--network host/);
    expect(sysctlRefusal('net.ipv4.ip_forward', 'shared')).toMatch(/another container/);
  });

  it('refuses the UTS names in favour of --hostname, and everything host-wide', () => {
    expect(sysctlRefusal('kernel.hostname', 'private')).toMatch(/--hostname/);
    expect(sysctlRefusal('kernel.domainname', 'private')).toMatch(/UTS/);
    for (const name of ['kernel.panic', 'vm.swappiness', 'kernel.semx', 'kernel.sem_next', 'fs.file-max', 'kernel.core_pattern', 'fs.mqueue', 'netx.a']) {
      expect(sysctlRefusal(name, 'private'), name).not.toBeNull();
    }
  });

  it('parses NAME=VALUE (/ as the separator too), one line per refusal', () => {
    expect(parseSysctl('net.ipv4.ip_forward=1', 'private')).toEqual({ name: 'net.ipv4.ip_forward', value: '1' });
    expect(parseSysctl('net/ipv4/ip_forward=1', 'private')).toEqual({ name: 'net.ipv4.ip_forward', value: '1' });
    expect(parseSysctl('kernel.sem=250 32000 32 128', 'host')).toEqual({ name: 'kernel.sem', value: '250 32000 32 128' });
    expect(parseSysctl('kernel.shmmax=', 'private')).toEqual({ name: 'kernel.shmmax', value: '' });
    expect(oneLine(() => parseSysctl('kernel.panic=1', 'private'))).toMatch(/^--sysctl kernel\.panic is not allowed: it is not namespaced/);
    expect(oneLine(() => parseSysctl('net.ipv4.ip_forward', 'private'))).toMatch(/expected NAME=VALUE/);
    expect(oneLine(() => parseSysctl('net..x=1', 'private'))).toMatch(/not a sysctl name/);
    expect(oneLine(() => parseSysctl('net.ipv4.../x=1', 'private'))).toMatch(/not a sysctl name/);
    expect(oneLine(() => parseSysctl('net=1', 'private'))).toMatch(/not a sysctl name/);
    expect(oneLine(() => parseSysctl('kernel.shmmax=1\n2', 'private'))).toMatch(/line break/);
    expect(oneLine(() => parseSysctl('net.ipv4.ip_forward=1', 'host'))).toMatch(/--network host/);
  });

  it('keeps one value per name, the last given', () => {
    expect(parseSysctls(['kernel.shmmax=1', 'kernel.sem=2', 'kernel.shmmax=3'], 'private')).toEqual([{ name: 'kernel.shmmax', value: '3' }, { name: 'kernel.sem', value: '2' }]);
  });
});

describe('--group-add, --oom-score-adj, --umask', () => {
  it('reads a group as a GID or a name', () => {
    expect(parseGroupAdd('1234')).toBe(1234);
    expect(parseGroupAdd('0')).toBe(0);
    expect(parseGroupAdd('audio')).toBe('audio');
    expect(parseGroupAdd('my-group_1')).toBe('my-group_1');
    expect(oneLine(() => parseGroupAdd('4294967295'))).toMatch(/out of range/);
    expect(oneLine(() => parseGroupAdd('a:b'))).toMatch(/not a GID nor a group name/);
    expect(oneLine(() => parseGroupAdd(''))).toMatch(/not a GID/);
  });

  it('reads oom_score_adj from -1000 to 1000', () => {
    expect(parseOomScoreAdj('500')).toBe(500);
    expect(parseOomScoreAdj('-1000')).toBe(-1000);
    expect(parseOomScoreAdj(1000)).toBe(1000);
    for (const bad of ['1001', '-1001', '1.5', 'x', '', '0x10', 1e6]) expect(oneLine(() => parseOomScoreAdj(bad))).toMatch(/-1000 to 1000/);
  });

  it('reads the umask in octal, up to 0777', () => {
    expect(parseUmask('0022')).toBe(0o022);
    expect(parseUmask('77')).toBe(0o077);
    expect(parseUmask('0')).toBe(0);
    expect(parseUmask('0777')).toBe(0o777);
    for (const bad of ['0999', '1777', '8', '', 'u=rwx', '00000']) expect(oneLine(() => parseUmask(bad))).toMatch(/octal mask/);
  });

  it('defaults: limits and groups inherited, umask 0022 (podman\'s), oom_score_adj inherited', () => {
    const s = parseProcessSettings({ ulimits: [], groupAdd: [] });
    expect(s).toEqual({ rlimits: [], additionalGids: [], additionalGroupNames: [], umask: DEFAULT_UMASK, oomScoreAdj: null });
    expect(processPlanSettings(s)).toEqual({ umask: 0o022 });
    expect(processPlanSettings(INHERITED_PROCESS_SETTINGS)).toEqual({});
  });

  it('becomes the plan\'s fields, groups split by kind and deduplicated', () => {
    const s = parseProcessSettings({ ulimits: ['nofile=1:2'], groupAdd: ['10', 'audio', '10', 'audio', '0'], oomScoreAdj: '-5', umask: '0077' });
    expect(processPlanSettings(s)).toEqual({
      rlimits: [{ resource: 7, soft: 1, hard: 2 }],
      additionalGids: [10, 0],
      additionalGroupNames: ['audio'],
      umask: 0o077,
      oomScoreAdj: -5,
    });
  });
});
