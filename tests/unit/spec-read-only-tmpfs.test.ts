import { describe, expect, it } from 'vitest';
import { planMounts } from '../../src/mounts/plan.js';
import { parseReadOnlyTmpfsFlag, readOnlyTmpfsMounts } from '../../src/spec/read-only-tmpfs.js';
import { MS } from '../../src/sys/mount-flags.js';

describe('readOnlyTmpfsMounts (podman\'s --read-only-tmpfs)', () => {
  it('--read-only: /tmp and /var/tmp rw,nosuid,nodev,noexec; /run rw,nosuid,nodev', () => {
    expect(readOnlyTmpfsMounts({ readOnly: true, readOnlyTmpfs: true, userTargets: [] })).toEqual([
      { target: '/tmp', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: '' },
      { target: '/var/tmp', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: '' },
      { target: '/run', flags: MS.NOSUID | MS.NODEV, data: '' },
    ]);
  });

  it('nothing without --read-only, or with --read-only-tmpfs=false', () => {
    expect(readOnlyTmpfsMounts({ readOnly: false, readOnlyTmpfs: true, userTargets: [] })).toEqual([]);
    expect(readOnlyTmpfsMounts({ readOnly: true, readOnlyTmpfs: false, userTargets: [] })).toEqual([]);
  });

  it("leaves a path the user mounts something on to the user's mount", () => {
    const targets = readOnlyTmpfsMounts({ readOnly: true, readOnlyTmpfs: true, userTargets: ['/tmp/', '/run'] }).map((m) => m.target);
    expect(targets).toEqual(['/var/tmp']);
  });

  it('are planned before the volumes, so that a volume inside /tmp stays visible', () => {
    const plan = planMounts({
      etcFiles: { hostname: '/h', hosts: '/hs', resolvConf: '/r' },
      volumes: [{ source: '/src', target: '/tmp/data', readOnly: false, sourceIsDir: true }],
      tmpfs: [],
      baseTmpfs: readOnlyTmpfsMounts({ readOnly: true, readOnlyTmpfs: true, userTargets: [] }),
      cgroup2: false,
      privileged: false,
    });
    const order = plan.map((s) => ('target' in s ? s.target : '')).filter((t) => t === '/tmp' || t === '/tmp/data');
    expect(order).toEqual(['/tmp', '/tmp/data']);
  });

  it('parses --read-only-tmpfs=true|false and refuses anything else', () => {
    expect(parseReadOnlyTmpfsFlag('true')).toBe(true);
    expect(parseReadOnlyTmpfsFlag('false')).toBe(false);
    expect(() => parseReadOnlyTmpfsFlag('r.tar')).toThrow(/expected true or false/);
  });
});
