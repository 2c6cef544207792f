import { describe, expect, it } from 'vitest';
import { describeCgroup, explainNoLimits, formatNamespaceView, parseMountRows, unifiedPath, type NamespaceView } from '../../src/runtime/namespace-view.js';

const HYBRID = { mount: '/sys/fs/cgroup/unified', rootControllers: ['hugetlb'], boundToV1: new Map([['cpu', '/sys/fs/cgroup/cpu'], ['memory', '/sys/fs/cgroup/memory'], ['pids', '/sys/fs/cgroup/pids']]) };
const UNIFIED = { mount: '/sys/fs/cgroup', rootControllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'], boundToV1: new Map<string, string>() };

describe('inspect --namespaces: the cgroup', () => {
  it('says that no limit applies, and why, when the group has no controllers', () => {
    const c = describeCgroup('/tsbox/abc', '/sys/fs/cgroup/unified/tsbox/abc', [], {}, HYBRID);
    expect(c.noLimits).toMatch(/^no controllers are enabled for this group: the cgroup v2 root at \/sys\/fs\/cgroup\/unified offers only hugetlb; cpu, memory, pids are bound to cgroup v1 \(\/sys\/fs\/cgroup\/cpu, \.\.\.\)/);
    expect(c.noLimits).toMatch(/no memory, CPU, pids or I\/O limit applies/);
    expect(explainNoLimits({ ...HYBRID, rootControllers: [], boundToV1: new Map() })).toMatch(/offers no controllers\. The group only gathers/);
    expect(explainNoLimits({ mount: null, rootControllers: [], boundToV1: new Map() })).toMatch(/no cgroup v2 hierarchy is mounted/);
  });

  it('shows the limits as the kernel holds them when it has controllers', () => {
    const c = describeCgroup('/tsbox/abc', '/sys/fs/cgroup/tsbox/abc', ['memory', 'pids'], { 'memory.max': '67108864', 'pids.max': 'max' }, UNIFIED);
    expect(c.noLimits).toBeNull();
    expect(c.limits).toEqual({ 'memory.max': '67108864', 'pids.max': 'max' });
  });

  it('reads the unified line of /proc/PID/cgroup and a mountinfo', () => {
    expect(unifiedPath('4:memory:/x\n0::/tsbox/abc\n')).toBe('/tsbox/abc');
    expect(unifiedPath('4:memory:/x\n')).toBeNull();
    expect(parseMountRows('22 1 0:21 / / rw - overlay overlay rw,lowerdir=/a\n23 22 0:5 / /proc rw,nosuid shared:1 - proc proc rw\n')).toEqual([
      { target: '/', type: 'overlay', source: 'overlay' },
      { target: '/proc', type: 'proc', source: 'proc' },
    ]);
  });
});

describe('inspect --namespaces: the text', () => {
  it('puts the container\'s ids next to the host\'s and marks shared ones', () => {
    const v: NamespaceView = {
      id: 'f'.repeat(64), name: 'web', pid: 4242,
      namespaces: [
        { type: 'pid', container: 'pid:[2]', host: 'pid:[1]', shared: false },
        { type: 'user', container: 'user:[9]', host: 'user:[9]', shared: true },
        { type: 'time', container: null, host: null, shared: false },
      ],
      cgroup: describeCgroup('/tsbox/ffffffffffff', '/sys/fs/cgroup/unified/tsbox/ffffffffffff', [], {}, HYBRID),
      mounts: [{ target: '/', type: 'overlay', source: 'overlay' }, { target: '/proc', type: 'proc', source: 'proc' }],
    };
    const text = formatNamespaceView(v);
    expect(text).toMatch(/^container web \(ffffffffffff\): its first process is host pid 4242$/m);
    expect(text).toMatch(/^pid\s+pid:\[2\]\s+pid:\[1\]\s+own$/m);
    expect(text).toMatch(/^user\s+user:\[9\]\s+user:\[9\]\s+shared with the host$/m);
    expect(text).toMatch(/^time\s+-\s+-$/m);
    expect(text).toMatch(/^ {2}controllers: \(none\)$/m);
    expect(text).toMatch(/^ {2}no limit applies: no controllers are enabled/m);
    expect(text).toMatch(/^mounts \(2\)\n {2}\/ {6}overlay  overlay\n {2}\/proc {2}proc {5}proc$/m);
  });
});
