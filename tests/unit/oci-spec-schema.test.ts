/**
 * Reading config.json: the real ones engines write parse; a wrong type, a missing field,
 * bad JSON or a bad bundle is one line naming the JSON path.
 */
import { describe, expect, it } from 'vitest';
import { OciSpecError, loadBundle, parseOciConfig, parseOciConfigText, parseOciProcess, parseOciResources, defaultOciSpec } from '../../src/oci/spec/index.js';
import { fakeFs, fixture } from './oci-spec-helpers.js';

const FIXTURES = ['runc-spec', 'podman-4.3-run-d', 'podman-4.3-flags', 'podman-4.3-cgroups-disabled', 'podman-4.3-rootfs-args', 'containerd-1.6-ctr-oci-spec', 'containerd-1.6-k8s-pod-container'];

/** The error's message, checking it is an OciSpecError of one line. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OciSpecError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected an error');
}

describe('config.json as engines write it', () => {
  it.each(FIXTURES)('%s parses', (name) => {
    const config = parseOciConfig(fixture(name));
    expect(config.ociVersion).toMatch(/^1\./);
    expect(config.root?.path).toBeTruthy();
  });

  it('keeps the values (podman 4.3 run -d)', () => {
    const c = parseOciConfig(fixture('podman-4.3-run-d'));
    expect(c.process?.user).toEqual({ uid: 0, gid: 0, umask: 18 });
    expect(c.process?.args).toEqual(['/bin/busybox', 'sleep', '300']);
    expect(c.linux?.namespaces?.find((n) => n.type === 'network')?.path).toMatch(/^\/run\/netns\//);
    expect(c.linux?.seccomp?.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(c.linux?.resources?.pids?.limit).toBe(2048);
  });

  it('ignores unknown fields anywhere (the spec says a runtime must)', () => {
    const json = fixture('runc-spec');
    json.somethingNew = { a: 1 };
    json.process.futureField = [1, 2];
    json.linux.resources.futureController = { x: 'y' };
    json.mounts[0].futureOption = true;
    const c = parseOciConfig(json);
    expect(c).not.toHaveProperty('somethingNew');
    expect(c.process).not.toHaveProperty('futureField');
  });

  it('reads null as absent (Go writes nil slices as null)', () => {
    const json = fixture('runc-spec');
    json.process.env = null;
    json.linux.maskedPaths = null;
    json.hooks = null;
    expect(() => parseOciConfig(json)).not.toThrow();
  });

  it('the default spec (tsbox-runtime spec) is a valid config', () => {
    expect(() => parseOciConfig(JSON.parse(JSON.stringify(defaultOciSpec())))).not.toThrow();
  });
});

describe('wrong types: one line naming the JSON path', () => {
  const cases: [string, (c: Record<string, any>) => void, string][] = [
    ['args a string', (c) => { c.process.args = 'sh -c true'; }, 'config.json: process.args: expected an array of strings'],
    ['args with a number', (c) => { c.process.args = ['sh', 1]; }, 'config.json: process.args: expected an array of strings'],
    ['uid negative', (c) => { c.process.user.uid = -1; }, 'config.json: process.user.uid: expected a non-negative integer'],
    ['uid a string', (c) => { c.process.user.uid = '0'; }, 'config.json: process.user.uid: expected a number'],
    ['terminal a string', (c) => { c.process.terminal = 'yes'; }, 'config.json: process.terminal: expected true or false'],
    ['mounts an object', (c) => { c.mounts = {}; }, 'config.json: mounts: expected an array'],
    ['a mount destination a number', (c) => { c.mounts[2].destination = 5; }, 'config.json: mounts[2].destination: expected a string'],
    ['mount options a string', (c) => { c.mounts[1].options = 'ro'; }, 'config.json: mounts[1].options: expected an array of strings'],
    ['root a string', (c) => { c.root = 'rootfs'; }, 'config.json: root: expected an object'],
    ['memory limit a float', (c) => { c.linux.resources.memory = { limit: 1.5 }; }, 'config.json: linux.resources.memory.limit: expected an integer'],
    ['annotations with a number', (c) => { c.annotations = { a: 1 }; }, 'config.json: annotations: expected an object whose values are strings'],
    ['a namespace without type', (c) => { c.linux.namespaces[1] = { path: '/proc/1/ns/net' }; }, 'config.json: linux.namespaces[1].type: is required'],
    ['sysctl values numbers', (c) => { c.linux.sysctl = { 'net.ipv4.ip_forward': 1 }; }, 'config.json: linux.sysctl: expected an object whose values are strings'],
    ['a hook without path', (c) => { c.hooks = { poststart: [{ args: ['x'] }] }; }, 'config.json: hooks.poststart[0].path: is required'],
    ['seccomp syscall names missing', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ action: 'SCMP_ACT_ERRNO' }] }; }, 'config.json: linux.seccomp.syscalls[0].names: is required'],
  ];
  it.each(cases)('%s', (_name, change, expected) => {
    const json = fixture('runc-spec');
    change(json);
    expect(errorOf(() => parseOciConfig(json))).toBe(expected);
  });

  it('missing fields', () => {
    const json = fixture('runc-spec');
    delete json.ociVersion;
    expect(errorOf(() => parseOciConfig(json))).toBe('config.json: ociVersion: is required');
    const noCwd = fixture('runc-spec');
    delete noCwd.process.cwd;
    expect(errorOf(() => parseOciConfig(noCwd))).toBe('config.json: process.cwd: is required');
    const noUser = fixture('runc-spec');
    delete noUser.process.user;
    expect(errorOf(() => parseOciConfig(noUser))).toBe('config.json: process.user: is required');
  });

  it('not JSON, not an object, not a 1.x version', () => {
    expect(errorOf(() => parseOciConfigText('{"ociVersion": '))).toMatch(/^config\.json: invalid JSON: /);
    expect(errorOf(() => parseOciConfigText('[]'))).toBe('config.json: expected a JSON object, not array');
    expect(errorOf(() => parseOciConfig({ ociVersion: '0.6.0' }))).toMatch(/^config\.json: ociVersion: '0\.6\.0' is not a runtime-spec version tsbox reads/);
    expect(() => parseOciConfig({ ociVersion: '1.2.0' })).not.toThrow();
  });

  it('exec --process and update --resources documents name their own file', () => {
    expect(errorOf(() => parseOciProcess({ user: { uid: 0, gid: 0 }, args: 'sh', cwd: '/' }))).toBe('process.json: args: expected an array of strings');
    expect(errorOf(() => parseOciResources({ pids: { limit: '5' } }, '-'))).toBe('-: pids.limit: expected a number');
    expect(parseOciResources({ memory: { limit: 1048576 } }).memory?.limit).toBe(1048576);
  });
});

describe('loadBundle: the bundle on disk', () => {
  const config = JSON.stringify(fixture('runc-spec'));

  it('reads and translates a good bundle', () => {
    const fs = fakeFs({ '/b/config.json': config }, { '/b': 'dir', '/b/rootfs': 'dir' });
    const { bundle, plan } = loadBundle('/b/', { fs });
    expect(bundle).toBe('/b');
    expect(plan.root).toMatchObject({ path: '/b/rootfs', readOnly: true });
  });

  it('no bundle directory', () => {
    expect(errorOf(() => loadBundle('/nope', { fs: fakeFs({}) }))).toBe('bundle: /nope does not exist');
  });

  it('no config.json', () => {
    expect(errorOf(() => loadBundle('/b', { fs: fakeFs({}, { '/b': 'dir' }) }))).toBe('config.json: there is no config.json in the bundle /b');
  });

  it('a root path that leads out of the bundle', () => {
    const json = fixture('runc-spec');
    json.root.path = '../../etc';
    const fs = fakeFs({ '/b/config.json': JSON.stringify(json) }, { '/b': 'dir', '/etc': 'dir' });
    expect(errorOf(() => loadBundle('/b', { fs }))).toBe("config.json: root.path: '../../etc' leads out of the bundle /b");
  });

  it('a root path that does not exist, or is not a directory, or is the host\'s /', () => {
    const fs = fakeFs({ '/b/config.json': config }, { '/b': 'dir' });
    expect(errorOf(() => loadBundle('/b', { fs }))).toBe('config.json: root.path: /b/rootfs does not exist');
    const file = fakeFs({ '/b/config.json': config, '/b/rootfs': 'x' }, { '/b': 'dir' });
    expect(errorOf(() => loadBundle('/b', { fs: file }))).toBe('config.json: root.path: /b/rootfs is not a directory');
    const json = fixture('runc-spec');
    json.root.path = '/';
    const slash = fakeFs({ '/b/config.json': JSON.stringify(json) }, { '/b': 'dir', '/': 'dir' });
    expect(errorOf(() => loadBundle('/b', { fs: slash }))).toBe("config.json: root.path: the host's root directory cannot be a container's root");
  });

  it('an absolute root outside the bundle is fine (podman mounts its overlay elsewhere)', () => {
    const json = fixture('podman-4.3-run-d');
    const fs = { ...fakeFs({ '/b/config.json': JSON.stringify(json) }, { '/b': 'dir' }), kind: (p: string) => (p === '/b/config.json' ? 'file' as const : /(hosts|hostname|resolv\.conf|\.containerenv)$/.test(p) ? 'file' as const : 'dir' as const) };
    expect(loadBundle('/b', { fs }).plan.root.path).toBe('/tmp/oci-spec-fx/rootfs');
  });

  it('an unsupported namespace type', () => {
    const json = fixture('runc-spec');
    json.linux.namespaces.push({ type: 'time' });
    const fs = fakeFs({ '/b/config.json': JSON.stringify(json) }, { '/b': 'dir', '/b/rootfs': 'dir' });
    expect(errorOf(() => loadBundle('/b', { fs }))).toBe('config.json: linux.namespaces[5].type: time namespaces are not supported by tsbox');
  });
});

describe('loadBundle on a real directory (nodeBundleFs)', () => {
  it('reads BUNDLE/config.json and finds the rootfs; refuses a root that is a file', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join, posix } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'tsbox-oci-bundle-'));
    try {
      mkdirSync(join(dir, 'rootfs'));
      // The k8s fixture binds host paths of a kubelet: give it sources that exist here.
      const json = fixture('containerd-1.6-k8s-pod-container');
      json.mounts = json.mounts.filter((m: { type: string }) => m.type !== 'bind');
      // Its namespace paths name a sandbox pid (/proc/4242/ns/*). Whenever a host process has that
      // pid, the real probe sees the host's own namespaces and refuses the join (as it must): point
      // them at paths of this bundle that no process can own.
      for (const ns of json.linux.namespaces as { path?: string }[]) if (ns.path) ns.path = join(dir, `ns-${posix.basename(ns.path)}`);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
      const { plan } = loadBundle(dir);
      expect(plan.root.path).toBe(join(dir, 'rootfs'));
      rmSync(join(dir, 'rootfs'), { recursive: true });
      writeFileSync(join(dir, 'rootfs'), '');
      expect(errorOf(() => loadBundle(dir))).toBe(`config.json: root.path: ${join(dir, 'rootfs')} is not a directory`);
      writeFileSync(join(dir, 'config.json'), '{"ociVersion": "1.0.2", "process": ');
      expect(errorOf(() => loadBundle(dir))).toMatch(/^config\.json: invalid JSON: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
