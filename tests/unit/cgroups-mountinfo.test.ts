import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { decideCgroup, findCgroup2Mount, findV1Controllers } from '../../src/cgroups/index.js';

// This development machine: hybrid, systemd's layout.
const HYBRID = `25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// A unified host, with optional fields (shared:N) before the separator.
const UNIFIED = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
26 25 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('findCgroup2Mount', () => {
  it('finds the unified mount on a hybrid host', () => {
    expect(findCgroup2Mount(HYBRID)).toBe('/sys/fs/cgroup/unified');
  });

  it('finds /sys/fs/cgroup on a unified host', () => {
    expect(findCgroup2Mount(UNIFIED)).toBe('/sys/fs/cgroup');
  });

  it('prefers /sys/fs/cgroup over other cgroup2 mounts, else takes the first one', () => {
    const extra = '90 22 0:50 / /mnt/my\\040cgroup rw - cgroup2 none rw\n';
    expect(findCgroup2Mount(extra + UNIFIED)).toBe('/sys/fs/cgroup');
    expect(findCgroup2Mount(extra)).toBe('/mnt/my cgroup');
  });

  it('returns null with no cgroup2 mount (pure v1, or nothing)', () => {
    expect(findCgroup2Mount(HYBRID.replace(/^41 .*\n/m, ''))).toBeNull();
    expect(findCgroup2Mount('')).toBeNull();
    expect(findCgroup2Mount('garbage line\n')).toBeNull();
  });
});

describe('findV1Controllers', () => {
  it('maps v2 controller names to their v1 mounts (io is blkio in v1)', () => {
    const v1 = findV1Controllers(HYBRID);
    expect(v1.get('memory')).toBe('/sys/fs/cgroup/memory');
    expect(v1.get('cpu')).toBe('/sys/fs/cgroup/cpu');
    expect(v1.get('io')).toBe('/sys/fs/cgroup/blkio');
    expect(v1.get('pids')).toBe('/sys/fs/cgroup/pids');
    expect(v1.has('hugetlb')).toBe(false);
    expect(findV1Controllers(UNIFIED).size).toBe(0);
  });
});

describe('decideCgroup', () => {
  const hybrid = { mount: '/sys/fs/cgroup/unified', writable: true, available: new Set(['hugetlb']), boundToV1: findV1Controllers(HYBRID) };

  it('refuses --memory on a hybrid host, naming the controller, the reason and the flag', () => {
    const d = decideCgroup(hybrid, new Map([['memory', ['--memory']]]));
    expect(d).toBeInstanceOf(UsageError);
    expect((d as UsageError).message).toBe(
      'memory controller is not available in cgroup v2 on this host (it is bound to cgroup v1 at /sys/fs/cgroup/memory); run without --memory or on a host with a unified cgroup hierarchy',
    );
  });

  it('says when the kernel lacks a controller altogether', () => {
    const d = decideCgroup({ ...hybrid, boundToV1: new Map() }, new Map([['pids', ['--pids-limit']]]));
    expect((d as UsageError).message).toContain('pids controller is not available in cgroup v2 on this host (the kernel does not offer it)');
  });

  it('creates a group without limits when the hierarchy is writable', () => {
    expect(decideCgroup(hybrid, new Map())).toBe('create');
  });

  it('creates when every needed controller is available', () => {
    expect(decideCgroup({ ...hybrid, available: new Set(['memory', 'cpu']) }, new Map([['memory', ['--memory']], ['cpu', ['--cpus']]]))).toBe('create');
  });

  it('runs without a group when there is nowhere to make one and nothing was asked', () => {
    expect(decideCgroup({ ...hybrid, mount: null }, new Map())).toBe('none');
    expect(decideCgroup({ ...hybrid, writable: false }, new Map())).toBe('none');
  });

  it('refuses limits when there is no writable hierarchy', () => {
    expect((decideCgroup({ ...hybrid, mount: null }, new Map([['cpu', ['--cpus']]])) as UsageError).message).toBe(
      'cannot apply --cpus: no cgroup v2 hierarchy is mounted on this host',
    );
    expect((decideCgroup({ ...hybrid, writable: false }, new Map([['cpu', ['--cpus']]])) as UsageError).message).toContain('is not writable');
  });
});
