import { describe, expect, it } from 'vitest';
import { TsboxError, UsageError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createContainerCgroup, gcCgroups, openContainerCgroup, type CgroupLimits } from '../../src/cgroups/index.js';
import { FakeCgroupFs } from './cgroups-fake-fs.js';

const log = silentLogger;
const LIMITS: CgroupLimits = { memoryMax: 64 * 1024 * 1024, pidsMax: 64, cpuMax: { quotaUs: 50000, periodUs: 100000 } };

describe('createContainerCgroup', () => {
  it('creates <mount>/tsbox/<id>, delegating the controllers from the root down, and writes the limits', async () => {
    const fs = new FakeCgroupFs();
    const cg = await createContainerCgroup({ id: 'c1', limits: LIMITS, log, fs });
    expect(cg?.path).toBe('/sys/fs/cgroup/tsbox/c1');
    expect(cg?.procsFile).toBe('/sys/fs/cgroup/tsbox/c1/cgroup.procs');
    expect(fs.read('/sys/fs/cgroup/cgroup.subtree_control').trim().split(' ').sort()).toEqual(['cpu', 'memory', 'pids']);
    expect(fs.read('/sys/fs/cgroup/tsbox/cgroup.subtree_control').trim().split(' ').sort()).toEqual(['cpu', 'memory', 'pids']);
    expect(fs.read('/sys/fs/cgroup/tsbox/c1/memory.max')).toBe('67108864');
    expect(fs.read('/sys/fs/cgroup/tsbox/c1/cpu.max')).toBe('50000 100000');
    expect(fs.read('/sys/fs/cgroup/tsbox/c1/pids.max')).toBe('64');
    // The parent group never holds a process.
    expect(fs.read('/sys/fs/cgroup/tsbox/cgroup.procs')).toBe('');
  });

  it('only adds controllers that are not enabled yet', async () => {
    const fs = new FakeCgroupFs();
    await createContainerCgroup({ id: 'a', limits: { pidsMax: 5 }, log, fs });
    await createContainerCgroup({ id: 'b', limits: { pidsMax: 5, memoryMax: 1 << 26 }, log, fs });
    const rootWrites = fs.ops.filter((op) => op.startsWith('write /sys/fs/cgroup/cgroup.subtree_control'));
    expect(rootWrites).toEqual(['write /sys/fs/cgroup/cgroup.subtree_control +pids', 'write /sys/fs/cgroup/cgroup.subtree_control +memory']);
  });

  it('honours a nested --cgroup-parent and rejects ".."', async () => {
    const fs = new FakeCgroupFs();
    const cg = await createContainerCgroup({ id: 'x', parent: '/ci/jobs', limits: {}, log, fs });
    expect(cg?.path).toBe('/sys/fs/cgroup/ci/jobs/x');
    await expect(createContainerCgroup({ id: 'y', parent: 'ci/../..', limits: {}, log, fs })).rejects.toBeInstanceOf(UsageError);
    await expect(createContainerCgroup({ id: '../y', limits: {}, log, fs })).rejects.toThrow(/invalid container id/);
  });

  it('refuses on a hybrid host before creating anything', async () => {
    const fs = new FakeCgroupFs({
      mount: '/sys/fs/cgroup/unified',
      controllers: ['hugetlb'],
      extraMountinfo: '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n',
    });
    await expect(createContainerCgroup({ id: 'c1', limits: { memoryMax: 1 << 26 }, log, fs })).rejects.toThrow(
      'memory controller is not available in cgroup v2 on this host (it is bound to cgroup v1 at /sys/fs/cgroup/memory); run without --memory',
    );
    expect(fs.ops).toEqual([]);
  });

  it('returns null without a writable hierarchy when nothing was asked', async () => {
    const fs = new FakeCgroupFs({ writable: false });
    expect(await createContainerCgroup({ id: 'c1', limits: {}, log, fs })).toBeNull();
    await expect(createContainerCgroup({ id: 'c1', limits: { pidsMax: 3 }, log, fs })).rejects.toThrow(/not writable/);
    expect(fs.ops).toEqual([]);
  });

  it('removes what it created when writing a limit fails, and says which file and value', async () => {
    const fs = new FakeCgroupFs();
    fs.failures.set('/sys/fs/cgroup/tsbox/c1/pids.max', 'EINVAL');
    const err = await createContainerCgroup({ id: 'c1', limits: LIMITS, log, fs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TsboxError);
    expect((err as Error).message).toBe("cannot set pids.max to '64' (--pids-limit): EINVAL (fake write failure)");
    expect(fs.groups.has('/sys/fs/cgroup/tsbox/c1')).toBe(false);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox')).toBe(false);
  });

  it('keeps a parent that already existed when unwinding', async () => {
    const fs = new FakeCgroupFs();
    await createContainerCgroup({ id: 'other', limits: {}, log, fs });
    fs.failures.set('/sys/fs/cgroup/tsbox/c1/memory.max', 'EBUSY');
    await expect(createContainerCgroup({ id: 'c1', limits: LIMITS, log, fs })).rejects.toThrow(/memory.max/);
    expect([...fs.groups.keys()].sort()).toEqual(['/sys/fs/cgroup', '/sys/fs/cgroup/tsbox', '/sys/fs/cgroup/tsbox/other']);
  });

  it('explains EBUSY from a parent that holds processes (no-internal-processes rule)', async () => {
    const fs = new FakeCgroupFs();
    fs.mkdir('/sys/fs/cgroup/busy');
    fs.write('/sys/fs/cgroup/busy/cgroup.procs', '4242');
    const err = (await createContainerCgroup({ id: 'c1', parent: 'busy', limits: { pidsMax: 3 }, log, fs }).catch((e: unknown) => e)) as TsboxError;
    expect(err.message).toContain('cannot enable pids in /sys/fs/cgroup/busy/cgroup.subtree_control: EBUSY');
    expect(err.hint).toContain('holds processes itself');
    expect(fs.groups.has('/sys/fs/cgroup/busy/c1')).toBe(false);
  });

  it('refuses an id that already has a group', async () => {
    const fs = new FakeCgroupFs();
    await createContainerCgroup({ id: 'c1', limits: {}, log, fs });
    await expect(createContainerCgroup({ id: 'c1', limits: {}, log, fs })).rejects.toThrow(/already exists/);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox/c1')).toBe(true);
  });
});

describe('ContainerCgroup', () => {
  it('moves processes in, reads stats and OOM kills', async () => {
    const fs = new FakeCgroupFs();
    const cg = (await createContainerCgroup({ id: 'c1', limits: { memoryMax: 1 << 26 }, log, fs }))!;
    cg.addProcess(100);
    expect(fs.read(cg.procsFile)).toBe('100\n');
    fs.groups.get(cg.path)!.values.set('cpu.stat', 'usage_usec 30\nuser_usec 20\nsystem_usec 10\n');
    fs.groups.get(cg.path)!.values.set('memory.peak', '4096\n');
    expect(cg.oomKilled()).toBe(false);
    fs.groups.get(cg.path)!.values.set('memory.events', 'oom 1\noom_kill 1\n');
    expect(cg.oomKilled()).toBe(true);
    const stats = cg.readStats();
    expect(stats).toMatchObject({ cpuUserUs: 20, cpuSystemUs: 10, memoryPeakBytes: 4096, oomKills: 1, pidsPeak: null });
  });

  it('destroy kills everything through cgroup.kill, removes sub-groups bottom-up, and is idempotent', async () => {
    const fs = new FakeCgroupFs();
    const cg = (await createContainerCgroup({ id: 'c1', limits: {}, log, fs }))!;
    cg.addProcess(100);
    fs.mkdir(`${cg.path}/inner`);
    fs.write(`${cg.path}/inner/cgroup.procs`, '101');
    await cg.destroy();
    expect(fs.ops).toContain(`write ${cg.path}/cgroup.kill 1`);
    expect(fs.ops.filter((o) => o.startsWith('rmdir'))).toEqual([`rmdir ${cg.path}/inner`, `rmdir ${cg.path}`]);
    expect(fs.groups.has(cg.path)).toBe(false);
    await cg.destroy();
  });

  it('without cgroup.kill, freezes and SIGKILLs every pid until the group is empty', async () => {
    const fs = new FakeCgroupFs({ noKill: true });
    const cg = (await createContainerCgroup({ id: 'c1', limits: {}, log, fs }))!;
    cg.addProcess(100);
    cg.addProcess(101);
    fs.stubborn.set(101, 2); // survives two rounds, as a process still exiting would
    await cg.destroy();
    expect(fs.ops).toContain(`write ${cg.path}/cgroup.freeze 1`);
    expect(fs.ops.filter((o) => o === 'kill 101 SIGKILL').length).toBe(3);
    expect(fs.groups.has(cg.path)).toBe(false);
  });

  it('gives up with a clear error when a process does not die', async () => {
    const fs = new FakeCgroupFs();
    const cg = (await createContainerCgroup({ id: 'c1', limits: {}, log, fs }))!;
    cg.addProcess(100);
    fs.stubborn.set(100, 1_000_000);
    const handle = openContainerCgroup(cg.path, log, fs);
    await expect(import('../../src/cgroups/destroy.js').then((m) => m.destroyCgroup(fs, handle.path, log, { timeoutMs: 50 }))).rejects.toThrow(/did not exit within 0.05s/);
    expect(fs.groups.has(cg.path)).toBe(true);
  });

  it('refuses to destroy the hierarchy root or the group tsbox runs in', async () => {
    const fs = new FakeCgroupFs();
    await expect(openContainerCgroup('/sys/fs/cgroup', log, fs).destroy()).rejects.toThrow(/not a non-root cgroup/);
    const cg = (await createContainerCgroup({ id: 'c1', limits: {}, log, fs }))!;
    fs.selfCgroupText = '0::/tsbox/c1\n';
    await expect(cg.destroy()).rejects.toThrow(/tsbox itself runs in it/);
    expect(fs.ops.some((o) => o.includes('cgroup.kill'))).toBe(false);
  });
});

describe('gcCgroups', () => {
  it('removes the groups of dead owners only', async () => {
    const fs = new FakeCgroupFs();
    for (const id of ['alive', 'dead1', 'dead2']) (await createContainerCgroup({ id, limits: {}, log, fs }))!.addProcess(id.length * 100);
    const removed = await gcCgroups({ isAlive: (id) => id === 'alive', log, fs });
    expect(removed.sort()).toEqual(['dead1', 'dead2']);
    expect(fs.listDirs('/sys/fs/cgroup/tsbox')).toEqual(['alive']);
  });

  it('returns nothing when the parent group does not exist', async () => {
    expect(await gcCgroups({ isAlive: () => false, log, fs: new FakeCgroupFs() })).toEqual([]);
  });
});
