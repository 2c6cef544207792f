import { describe, expect, it } from 'vitest';
import { createContainerCgroup } from '../../src/cgroups/index.js';
import { createEarlyGroup, removeEarlyGroup, removeStaleEmptyGroups } from '../../src/cgroups/early-group.js';
import { silentLogger } from '../../src/log.js';
import { FakeCgroupFs } from './cgroups-fake-fs.js';

describe('createEarlyGroup', () => {
  it('makes <mount>/tsbox/<short id> for the early init', () => {
    const fs = new FakeCgroupFs();
    const group = createEarlyGroup('abc123def456', 4242, fs);
    expect(group?.path).toBe('/sys/fs/cgroup/tsbox/abc123def456');
    expect(fs.groups.has('/sys/fs/cgroup/tsbox/abc123def456')).toBe(true);
  });

  it('makes nothing where cgroup2 is not writable', () => {
    const fs = new FakeCgroupFs({ writable: false });
    expect(createEarlyGroup('abc123def456', 4242, fs)).toBeNull();
    expect([...fs.groups.keys()]).toEqual(['/sys/fs/cgroup']);
  });

  it('is adopted by the run when the spec agrees: no second group, limits written into it', async () => {
    const fs = new FakeCgroupFs();
    const group = createEarlyGroup('abc123def456', 4242, fs)!;
    fs.write(`${group.path}/cgroup.procs`, '4242'); // what the real move does
    const cg = await createContainerCgroup({ id: 'abc123def456', limits: { pidsMax: 9 }, log: silentLogger, fs, adopt: group.path });
    expect(cg?.path).toBe(group.path);
    expect(fs.read(`${group.path}/pids.max`)).toBe('9');
    expect(fs.read(`${group.path}/cgroup.procs`)).toBe('4242\n');
  });

  it('without adopt, an existing group of the same id is an error, not silently shared', async () => {
    const fs = new FakeCgroupFs();
    createEarlyGroup('abc123def456', 4242, fs);
    await expect(createContainerCgroup({ id: 'abc123def456', limits: {}, log: silentLogger, fs })).rejects.toThrow(/already exists/);
  });

  it('removeEarlyGroup removes an empty group and leaves a busy one', () => {
    const fs = new FakeCgroupFs();
    const group = createEarlyGroup('abc123def456', 4242, fs)!;
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
    createEarlyGroup('old000000000', 1, fs);
    fs.now = 50_000;
    expect(removeStaleEmptyGroups(30_000, 40_000, fs)).toEqual(['old000000000']);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox')).toBe(false);
  });

  it('leaves young groups and groups with processes', () => {
    const fs = new FakeCgroupFs();
    fs.now = 1_000;
    createEarlyGroup('busy00000000', 1, fs);
    fs.write('/sys/fs/cgroup/tsbox/busy00000000/cgroup.procs', '777');
    fs.now = 39_000;
    createEarlyGroup('young0000000', 1, fs);
    expect(removeStaleEmptyGroups(30_000, 40_000, fs)).toEqual([]);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox/busy00000000')).toBe(true);
    expect(fs.groups.has('/sys/fs/cgroup/tsbox/young0000000')).toBe(true);
  });
});
