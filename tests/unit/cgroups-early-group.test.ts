import { describe, expect, it } from 'vitest';
import { createContainerCgroup } from '../../src/cgroups/index.js';
import { createEarlyGroup, removeEarlyGroup, removeStaleEmptyGroups } from '../../src/cgroups/early-group.js';
import { silentLogger } from '../../src/log.js';
import { FakeCgroupFs } from './cgroups-fake-fs.js';

describe('createEarlyGroup', () => {
  it('makes <mount>/tsbox/<short id> for the early init', () => {
    const fs = new FakeCgroupFs();
    const group = createEarlyGroup('abc123def456', 4242, undefined, fs);
    expect(group?.path).toBe('/sys/fs/cgroup/tsbox/abc123def456');
    expect(fs.groups.has('/sys/fs/cgroup/tsbox/abc123def456')).toBe(true);
  });

  it('--cgroup-parent: made under that parent (nested too), and adopted by the run that names it', async () => {
    const fs = new FakeCgroupFs();
    const group = createEarlyGroup('abc123def456', 4242, '/ci.slice/job7', fs)!;
    expect(group.path).toBe('/sys/fs/cgroup/ci.slice/job7/abc123def456');
    expect(fs.groups.has('/sys/fs/cgroup/tsbox')).toBe(false);
    fs.write(`${group.path}/cgroup.procs`, '4242');
    const cg = await createContainerCgroup({ id: 'abc123def456', parent: '/ci.slice/job7', limits: {}, log: silentLogger, fs, adopt: group.path });
    expect(cg?.path).toBe(group.path);
  });

  it('an invalid --cgroup-parent makes no group (the run reports the flag)', () => {
    const fs = new FakeCgroupFs();
    expect(createEarlyGroup('abc123def456', 4242, '../escape', fs)).toBeNull();
    expect([...fs.groups.keys()]).toEqual(['/sys/fs/cgroup']);
  });

  it('removeEarlyGroup leaves a --cgroup-parent of the user\'s in place', () => {
    const fs = new FakeCgroupFs();
    const group = createEarlyGroup('abc123def456', 4242, 'mine', fs)!;
    removeEarlyGroup(group, fs);
    expect(fs.groups.has(group.path)).toBe(false);
    expect(fs.groups.has('/sys/fs/cgroup/mine')).toBe(true);
  });

  it('makes nothing where cgroup2 is not writable', () => {
    const fs = new FakeCgroupFs({ writable: false });
    expect(createEarlyGroup('abc123def456', 4242, undefined, fs)).toBeNull();
    expect([...fs.groups.keys()]).toEqual(['/sys/fs/cgroup']);
  });

  it('is adopted by the run when the spec agrees: no second group, limits written into it', async () => {
    const fs = new FakeCgroupFs();
    const group = createEarlyGroup('abc123def456', 4242, undefined, fs)!;
    fs.write(`${group.path}/cgroup.procs`, '4242'); // what the real move does
    const cg = await createContainerCgroup({ id: 'abc123def456', limits: { pidsMax: 9 }, log: silentLogger, fs, adopt: group.path });
    expect(cg?.path).toBe(group.path);
    expect(fs.read(`${group.path}/pids.max`)).toBe('9');
    expect(fs.read(`${group.path}/cgroup.procs`)).toBe('4242\n');
  });

  it('without adopt, an existing group of the same id is an error, not silently shared', async () => {
    const fs = new FakeCgroupFs();
    createEarlyGroup('abc123def456', 4242, undefined, fs);
    await expect(createContainerCgroup({ id: 'abc123def456', limits: {}, log: silentLogger, fs })).rejects.toThrow(/already exists/);
  });

  it('removeEarlyGroup removes an empty group and leaves a busy one', () => {
    const fs = new FakeCgroupFs();
    const group = createEarlyGroup('abc123def456', 4242, undefined, fs)!;
    fs.write(`${group.path}/cgroup.procs`, '4242');
    removeEarlyGroup(group, fs);
    expect(fs.groups.has(group.path)).toBe(true);
    fs.kill(4242, 'SIGKILL');
    removeEarlyGroup(group, fs);
    expect(fs.groups.has(group.path)).toBe(false);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox')).toBe(false); // the parent it emptied too
    removeEarlyGroup(group, fs); // gone already: no error
  });
});

describe('removeStaleEmptyGroups (gc)', () => {
  it('removes empty groups older than the grace period, then the empty parent', () => {
    const fs = new FakeCgroupFs();
    fs.now = 1_000;
    createEarlyGroup('old000000000', 1, undefined, fs);
    fs.now = 50_000;
    expect(removeStaleEmptyGroups(30_000, 40_000, fs)).toEqual(['old000000000']);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox')).toBe(false);
  });

  it('leaves young groups and groups with processes', () => {
    const fs = new FakeCgroupFs();
    fs.now = 1_000;
    createEarlyGroup('busy00000000', 1, undefined, fs);
    fs.write('/sys/fs/cgroup/tsbox/busy00000000/cgroup.procs', '777');
    fs.now = 39_000;
    createEarlyGroup('young0000000', 1, undefined, fs);
    expect(removeStaleEmptyGroups(30_000, 40_000, fs)).toEqual([]);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox/busy00000000')).toBe(true);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox/young0000000')).toBe(true);
  });
});
