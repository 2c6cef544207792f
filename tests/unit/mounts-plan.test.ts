import { describe, expect, it } from 'vitest';
import { escapeOverlayPath, overlayOptions, planMounts, STANDARD_DEVICES } from '../../src/mounts/plan.js';
import { MS } from '../../src/sys/mount.js';

const base = {
  etcFiles: { hostname: '/s/hostname', hosts: '/s/hosts', resolvConf: '/s/resolv.conf' },
  volumes: [],
  tmpfs: [],
  cgroup2: true,
  privileged: false,
};

describe('the mount plan', () => {
  it('mounts /proc first, with nosuid, nodev and noexec', () => {
    const [first] = planMounts(base);
    expect(first).toMatchObject({ op: 'mount', fstype: 'proc', target: '/proc' });
    expect((first as { flags: number }).flags).toBe(MS.NOSUID | MS.NODEV | MS.NOEXEC);
  });

  it('gives /dev only the standard nodes, a private devpts and the fd links', () => {
    const steps = planMounts(base);
    const nodes = steps.filter((s) => s.op === 'mknod').map((s) => s.target);
    expect(nodes).toEqual(STANDARD_DEVICES.map((d) => `/dev/${d.name}`));
    const pts = steps.find((s) => s.op === 'mount' && s.target === '/dev/pts');
    expect(pts).toMatchObject({ fstype: 'devpts', data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' });
    const symlinks = Object.fromEntries(steps.filter((s) => s.op === 'symlink').map((s) => [s.target, (s as { linkTo: string }).linkTo]));
    expect(symlinks).toEqual({ '/dev/ptmx': 'pts/ptmx', '/dev/fd': '/proc/self/fd', '/dev/stdin': '/proc/self/fd/0', '/dev/stdout': '/proc/self/fd/1', '/dev/stderr': '/proc/self/fd/2' });
  });

  it('mounts /dev before anything under it', () => {
    const steps = planMounts(base);
    const devIndex = steps.findIndex((s) => s.target === '/dev');
    steps.forEach((s, i) => {
      if (s.target.startsWith('/dev/')) expect(i).toBeGreaterThan(devIndex);
    });
  });

  it('mounts /sys and the cgroup view read-only, the cgroup view only when asked', () => {
    const sys = planMounts(base).find((s) => s.target === '/sys') as { flags: number };
    expect(sys.flags & MS.RDONLY).toBe(MS.RDONLY);
    expect(planMounts(base).some((s) => s.target === '/sys/fs/cgroup')).toBe(true);
    expect(planMounts({ ...base, cgroup2: false }).some((s) => s.target === '/sys/fs/cgroup')).toBe(false);
  });

  it('puts user volumes and tmpfs last, so they can cover defaults', () => {
    const steps = planMounts({
      ...base,
      volumes: [{ source: '/host/data', target: '/data', readOnly: true, sourceIsDir: true }, { source: '/host/f', target: '/etc/f', readOnly: false, sourceIsDir: false }],
      tmpfs: [{ target: '/scratch', flags: MS.NOSUID, data: 'size=1m' }],
    });
    expect(steps.slice(-3)).toEqual([
      { op: 'bind', source: '/host/data', target: '/data', readOnly: true, create: 'dir' },
      { op: 'bind', source: '/host/f', target: '/etc/f', readOnly: false, create: 'file' },
      { op: 'mount', fstype: 'tmpfs', source: 'tmpfs', target: '/scratch', flags: MS.NOSUID, data: 'size=1m', create: 'dir' },
    ]);
  });

  it('masks and write-protects docker\'s kernel paths, unless privileged', () => {
    const steps = planMounts(base);
    expect(steps.filter((s) => s.op === 'mask').map((s) => s.target)).toContain('/proc/kcore');
    expect(steps.filter((s) => s.op === 'readonly').map((s) => s.target)).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    const procIndex = steps.findIndex((s) => s.target === '/proc');
    const firstMask = steps.findIndex((s) => s.op === 'mask');
    expect(firstMask).toBeGreaterThan(procIndex);
    const privileged = planMounts({ ...base, privileged: true });
    expect(privileged.some((s) => s.op === 'mask' || s.op === 'readonly')).toBe(false);
    expect(((privileged.find((s) => s.target === '/sys') as { flags: number }).flags & MS.RDONLY)).toBe(0);
  });

  it('escapes overlay option separators in paths', () => {
    expect(escapeOverlayPath('/a,b:c\\d')).toBe('/a\\,b\\:c\\\\d');
    expect(overlayOptions('/l', '/u', '/w')).toBe('lowerdir=/l,upperdir=/u,workdir=/w');
  });
});
