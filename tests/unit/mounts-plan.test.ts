import { describe, expect, it } from 'vitest';
import { escapeOverlayPath, overlayOptions, planMounts, STANDARD_DEVICES } from '../../src/mounts/plan.js';
import { MS } from '../../src/sys/mount-flags.js';
import { STATIC_INIT_PATH, staticInitArgv } from '../../src/mounts/static-init.js';

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
      { op: 'bind', source: '/host/data', target: '/data', readOnly: true, create: 'dir', flags: MS.NODEV },
      { op: 'bind', source: '/host/f', target: '/etc/f', readOnly: false, create: 'file', flags: MS.NODEV },
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

  it('recreates the host\'s devices in /dev only when privileged, never its terminal', () => {
    const hostDevices = [
      { name: 'vda', mode: 0o060600, major: 254, minor: 0 },
      { name: 'kvm', mode: 0o020660, major: 10, minor: 232 },
      { name: 'console', mode: 0o020600, major: 5, minor: 1 },
      { name: 'null', mode: 0o020666, major: 1, minor: 3 },
    ];
    const privileged = planMounts({ ...base, privileged: true, hostDevices }).filter((s) => s.op === 'mknod');
    expect(privileged.filter((s) => ['/dev/vda', '/dev/kvm'].includes(s.target))).toEqual([
      { op: 'mknod', target: '/dev/vda', major: 254, minor: 0, mode: 0o060600 },
      { op: 'mknod', target: '/dev/kvm', major: 10, minor: 232, mode: 0o020660 },
    ]);
    expect(privileged.filter((s) => s.target === '/dev/console')).toEqual([]);
    expect(privileged.filter((s) => s.target === '/dev/null')).toHaveLength(1); // the standard one, once
    expect(planMounts({ ...base, hostDevices }).some((s) => s.target === '/dev/vda')).toBe(false);
  });

  it('binds volumes nodev, except when privileged: a node in a host directory must not open the host device', () => {
    const volumes = [{ source: '/host/data', target: '/data', readOnly: false, sourceIsDir: true }];
    const binds = (privileged: boolean) => planMounts({ ...base, privileged, volumes }).filter((s) => s.op === 'bind' && s.target === '/data');
    expect(binds(false)).toEqual([expect.objectContaining({ flags: MS.NODEV })]);
    expect(binds(true).map((b) => ((b as { flags?: number }).flags ?? 0) & MS.NODEV)).toEqual([0]);
  });

  it('keeps /dev itself without nodev (its nodes must open) but everything mounted under it nodev, except devpts', () => {
    const steps = planMounts(base).filter((s) => s.op === 'mount');
    const flags = (target: string) => (steps.find((s) => s.target === target) as { flags: number }).flags;
    expect(flags('/dev') & MS.NODEV).toBe(0);
    expect(flags('/dev/shm') & MS.NODEV).toBe(MS.NODEV);
    expect(flags('/dev/mqueue') & MS.NODEV).toBe(MS.NODEV);
  });

  it('makes a node in /dev for each --device, with the host node\'s type, permissions and owner, in place of a standard one of the same name', () => {
    const devices = [
      { path: '/dev/loop7', type: 'b' as const, major: 7, minor: 7, permissions: 0o660, uid: 0, gid: 6 },
      { path: '/dev/net/tun', type: 'c' as const, major: 10, minor: 200, permissions: 0o666, uid: 0, gid: 0 },
      { path: '/dev/null', type: 'c' as const, major: 1, minor: 7, permissions: 0o600, uid: 0, gid: 0 },
    ];
    const nodes = planMounts({ ...base, devices }).filter((s) => s.op === 'mknod');
    expect(nodes.filter((s) => s.target === '/dev/loop7' || s.target === '/dev/net/tun')).toEqual([
      { op: 'mknod', target: '/dev/loop7', major: 7, minor: 7, mode: 0o060660, owner: { uid: 0, gid: 6 } },
      { op: 'mknod', target: '/dev/net/tun', major: 10, minor: 200, mode: 0o020666, owner: { uid: 0, gid: 0 } },
    ]);
    expect(nodes.filter((s) => s.target === '/dev/null')).toEqual([{ op: 'mknod', target: '/dev/null', major: 1, minor: 7, mode: 0o020600, owner: { uid: 0, gid: 0 } }]);
    const devIndex = planMounts({ ...base, devices }).findIndex((s) => s.target === '/dev');
    expect(planMounts({ ...base, devices }).findIndex((s) => s.target === '/dev/loop7')).toBeGreaterThan(devIndex);
  });

  it('escapes overlay option separators in paths', () => {
    expect(escapeOverlayPath('/a,b:c\\d')).toBe('/a\\,b\\:c\\\\d');
    expect(overlayOptions('/l', '/u', '/w')).toBe('lowerdir=/l,upperdir=/u,workdir=/w,volatile');
    expect(overlayOptions('/l', '/u', '/w', { volatile: false })).toBe('lowerdir=/l,upperdir=/u,workdir=/w');
  });
});

describe('--init (tini bound at /dev/init)', () => {
  it('binds the static init read-only, nosuid, nodev, as a file, after /dev and before the user\'s mounts', () => {
    const volumes = [{ source: '/h/dev', target: '/dev', readOnly: false, sourceIsDir: true }];
    const steps = planMounts({ ...base, volumes, staticInit: '/usr/bin/tini-static' });
    const at = steps.findIndex((s) => s.target === STATIC_INIT_PATH);
    expect(steps[at]).toEqual({ op: 'bind', source: '/usr/bin/tini-static', target: '/dev/init', readOnly: true, create: 'file', flags: MS.NOSUID | MS.NODEV });
    expect(at).toBeGreaterThan(steps.findIndex((s) => s.op === 'mount' && s.target === '/dev'));
    expect(at).toBeLessThan(steps.findIndex((s) => s.op === 'bind' && s.source === '/h/dev'));
  });

  it('binds nothing without --init', () => {
    expect(planMounts(base).some((s) => s.target === STATIC_INIT_PATH)).toBe(false);
    expect(planMounts({ ...base, staticInit: null }).some((s) => s.target === STATIC_INIT_PATH)).toBe(false);
  });

  it('tini gets the command after "--", so a command that looks like an option stays the command', () => {
    expect(staticInitArgv(['-s', 'x'])).toEqual(['/dev/init', '--', '-s', 'x']);
  });
});
