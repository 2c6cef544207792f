/**
 * create's early init (src/oci/runtime/early-guess.ts): the guess from the command line and
 * a plain JSON.parse of config.json must give the same key as the validated plan for the
 * configs engines really send (then the early init is taken), and nothing for what it cannot
 * tell (then create spawns its own).
 */
import { describe, expect, it } from 'vitest';
import { createBundle, guessFromConfig, planKey } from '../../src/oci/runtime/early-guess.js';
import { parseOciConfig, toTsboxNamespaces, translateOciConfig } from '../../src/oci/spec/index.js';
import { everythingExists, fixture } from './oci-spec-helpers.js';

describe('createBundle', () => {
  it('finds create and its bundle after runc\'s global flags', () => {
    expect(createBundle(['--root', '/r', '--log', '/l', '--log-format', 'json', '--systemd-cgroup', 'create', '--bundle', '/b', '--pid-file', '/p', 'id'])).toBe('/b');
    expect(createBundle(['create', '-b', '/b', 'id'])).toBe('/b');
    expect(createBundle(['create', '--bundle=/c', 'id'])).toBe('/c');
    expect(createBundle(['create', 'id'])).toBe('.');
  });
  it('nothing for the other commands (a flag\'s value named create included)', () => {
    expect(createBundle(['start', 'id'])).toBeNull();
    expect(createBundle(['--root', 'create', 'state', 'id'])).toBeNull();
    expect(createBundle(['run', '--bundle', '/b', 'id'])).toBeNull();
  });
});

describe('the guess agrees with the plan', () => {
  for (const name of ['podman-4.3-run-d', 'podman-4.3-cgroups-disabled', 'podman-4.3-flags', 'containerd-1.6-ctr-oci-spec', 'containerd-1.6-k8s-pod-container', 'runc-spec']) {
    it(name, () => {
      const json = fixture(name);
      if (!json.process.args?.length) json.process.args = ['sh']; // ctr's spec before its command is set
      const plan = translateOciConfig(parseOciConfig(json), { bundle: '/b', probe: everythingExists });
      const guess = guessFromConfig(JSON.stringify(json));
      expect(guess).not.toBeNull();
      expect(guess!.key).toBe(planKey(toTsboxNamespaces(plan), plan.process.terminal));
    });
  }
  it('a terminal, and a joined namespace, change the key', () => {
    const json = fixture('runc-spec');
    const base = guessFromConfig(JSON.stringify(json))!.key;
    json.process.terminal = !json.process.terminal;
    expect(guessFromConfig(JSON.stringify(json))!.key).not.toBe(base);
    json.process.terminal = !json.process.terminal;
    json.linux.namespaces = json.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n));
    expect(guessFromConfig(JSON.stringify(json))!.key).not.toBe(base);
  });
  it('no guess from what is not plainly a config', () => {
    expect(guessFromConfig('{')).toBeNull();
    expect(guessFromConfig('{"linux":{}}')).toBeNull();
    expect(guessFromConfig('{"linux":{"namespaces":[{"path":"/x"}]}}')).toBeNull();
  });
});
