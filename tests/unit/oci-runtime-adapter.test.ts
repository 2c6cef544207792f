/**
 * tsbox-runtime's own pure-ish parts (src/oci/spec's translation has its own tests):
 * signals, the escaping-symlink check on a rootfs, and what planContainer refuses.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDestination } from '../../src/oci/runtime/bundle.js';
import { planContainer } from '../../src/oci/runtime/config-adapter.js';
import { parseSignal } from '../../src/oci/runtime/signal-arg.js';
import { CLONE } from '../../src/sys/process-flags.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbox-oci-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'rootfs/var'), { recursive: true });
symlinkSync('../../../../tmp', join(dir, 'rootfs/up'));
symlinkSync('/run', join(dir, 'rootfs/var/run'));
symlinkSync('../etc', join(dir, 'rootfs/var/etc'));

function bundle(patch: (c: Record<string, any>) => void = () => {}): string {
  const config: Record<string, any> = {
    ociVersion: '1.0.2',
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }] },
  };
  patch(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('parseSignal', () => {
  it('numbers and names, TERM by default', () => {
    expect(parseSignal(undefined)).toBe(15);
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('sigusr1')).toBe(10);
    expect(() => parseSignal('NOPE')).toThrow(/invalid signal/);
    expect(() => parseSignal('0')).toThrow(/invalid signal/);
  });
});

describe('checkDestination', () => {
  const root = join(dir, 'rootfs');
  it('refuses a destination reached through a relative link that climbs out of the root', () => {
    expect(() => checkDestination(root, '/up/x')).toThrow(/escapes the root through the symlink \/up -> ..\/..\/..\/..\/tmp/);
  });
  it('allows absolute links (resolved inside the root), links that stay inside, and paths not made yet', () => {
    expect(() => checkDestination(root, '/var/run/secrets')).not.toThrow();
    expect(() => checkDestination(root, '/var/etc/hosts')).not.toThrow();
    expect(() => checkDestination(root, '/new/dir')).not.toThrow();
  });
});

describe('planContainer', () => {
  it('gives the namespaces, the default group and an init plan with a bind root', () => {
    const p = planContainer(bundle(), 'c1', { systemdCgroup: false });
    expect(p.ns.unshare).toBe(CLONE.NEWPID | CLONE.NEWNS | CLONE.NEWNET | CLONE.NEWUTS | CLONE.NEWIPC);
    expect(p.cgroup).toEqual({ parent: 'tsbox-runtime', name: 'c1' });
    const init = p.initPlan(null, false);
    expect(init.rootfs).toEqual({ kind: 'bind', path: join(dir, 'rootfs'), readOnly: false, nodev: false });
    // Exactly config.json's groups (none here), nothing looked up in /etc/group, as runc.
    expect(init.process).toEqual({ args: ['sh'], env: [], cwd: '/', user: '0:0', additionalGids: [], exactGroups: true });
    expect(init.loopback).toBe(true);
    // runc's default config.json asks for no cgroup namespace: the init keeps the one it is born in.
    expect(init.shared).toEqual({ uts: false, cgroupns: true });
  });
  it('podman\'s cgroupsPath becomes parent and name', () => {
    expect(planContainer(bundle((c) => (c.linux.cgroupsPath = '/libpod_parent/libpod-abc')), 'abc', { systemdCgroup: false }).cgroup).toEqual({ parent: 'libpod_parent', name: 'libpod-abc' });
  });
  it('takes hooks (run by create, start, delete and the init); refuses user namespaces', () => {
    expect(planContainer(bundle((c) => (c.hooks = { poststart: [{ path: '/bin/true' }] })), 'c', { systemdCgroup: false }).plan.hooks.poststart).toEqual([{ path: '/bin/true', args: ['/bin/true'], env: [], timeoutSeconds: null }]);
    expect(() => planContainer(bundle((c) => c.linux.namespaces.push({ type: 'user' })), 'c', { systemdCgroup: false })).toThrow(/user/);
  });
});
