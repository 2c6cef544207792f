import { describe, expect, it } from 'vitest';
import { decideStateAccess, type DirFacts } from '../../src/cli/state-access.js';

const dir = (over: Partial<DirFacts>): DirFacts => ({ path: '/var/lib/tsbox', existing: '/var/lib/tsbox', usable: true, ownerUid: 0, ...over });

describe('decideStateAccess', () => {
  it('usable directories: nothing to say', () => {
    expect(decideStateAccess('ps', 1000, [dir({}), dir({ path: '/run/tsbox', existing: '/run' })])).toBeNull();
  });

  it('a state root to be created where the user may not write: needs root, one line, 125', () => {
    const err = decideStateAccess('ps', 65534, [dir({ existing: '/var/lib', usable: false })]);
    expect(err?.exitCode).toBe(125);
    expect(err?.step).toBe('open state root');
    expect(err?.message).toBe('tsbox ps needs root (/var/lib/tsbox would be created in /var/lib, which belongs to root, and uid 65534 may not write there)');
    expect(err?.hint).toMatch(/^Run it as root \(sudo tsbox ps\), or give --root/);
  });

  it('an existing state root of another user names its owner', () => {
    const err = decideStateAccess('rootfs ls', 1000, [dir({}), dir({ path: '/srv/ci', existing: '/srv/ci', usable: false, ownerUid: 1001 })]);
    expect(err?.message).toBe('tsbox rootfs ls needs root (/srv/ci belongs to uid 1001, and uid 1000 may not write there)');
  });
});
