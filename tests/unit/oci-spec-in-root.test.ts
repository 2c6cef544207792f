/**
 * The plan's mount destinations are in-root paths for tsbox's resolver: a rootfs whose
 * symlinks point out of it (at the host's /etc, or up with "..") cannot send a mount
 * target outside, when the executor opens the targets with fs/in-root as the API says.
 * A real directory tree (no root needed: O_PATH and openat2 work for anyone).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InRoot } from '../../src/fs/in-root/resolver.js';
import { inRootSys } from '../../src/sys/in-root.js';
import { parseOciConfig, translateOciConfig } from '../../src/oci/spec/index.js';
import { fixture } from './oci-spec-helpers.js';

const base = mkdtempSync(join(tmpdir(), 'tsbox-oci-in-root-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('mount targets of a config, resolved with the in-root resolver', () => {
  const bundle = join(base, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  const outside = join(base, 'outside');
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(outside);
  mkdirSync(join(bundle, 'src'));
  // An image that tries it: /etc is a link to an absolute host path, /data climbs with "..".
  symlinkSync(outside, join(rootfs, 'etc'));
  symlinkSync('../../../outside', join(rootfs, 'data'));
  writeFileSync(join(bundle, 'hosts'), '127.0.0.1 localhost\n');

  const json = fixture('runc-spec');
  json.mounts = [
    { destination: '/etc/hosts', type: 'bind', source: 'hosts', options: ['rbind', 'ro'] },
    { destination: '/data/evil', type: 'bind', source: 'src', options: ['rbind'] },
    { destination: '../../../outside/x', type: 'tmpfs', source: 'tmpfs' },
  ];
  const plan = translateOciConfig(parseOciConfig(json), { bundle, probe: { kind: (p) => (p.endsWith('hosts') ? 'file' : 'dir') } });

  it('the plan carries them relative to the root, clamped lexically', () => {
    expect(plan.mounts.map((m) => m.target)).toEqual(['etc/hosts', 'data/evil', 'outside/x']);
  });

  const ensure = (i: number): string => {
    const m = plan.mounts[i]!;
    const r = InRoot.open(rootfs, inRootSys);
    try {
      const fd = r.ensure(m.target, m.op === 'bind' && m.create === 'file' ? 'file' : 'dir');
      try {
        return inRootSys.fdPath(fd);
      } finally {
        inRootSys.close(fd);
      }
    } finally {
      r.close();
    }
  };
  const nothingOutside = () => {
    for (const name of ['hosts', 'evil', 'x']) expect(existsSync(join(outside, name))).toBe(false);
  };

  it('a link to a host path is read inside the root, where it leads nowhere: refused', () => {
    expect(() => ensure(0)).toThrow('/etc in the image is a dangling symlink');
    nothingOutside();
  });

  it('a link that climbs with ".." stops at the root: the mount point is made inside it', () => {
    mkdirSync(join(rootfs, 'outside'));
    expect(ensure(1)).toBe(join(rootfs, 'outside', 'evil'));
    expect(ensure(2)).toBe(join(rootfs, 'outside', 'x'));
    nothingOutside();
  });
});
