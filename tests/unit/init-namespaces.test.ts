import { describe, expect, it } from 'vitest';
import { homeNamespaces, INIT_NAMESPACE_FLAGS, joinContainerNamespaces, newContainerNamespaces } from '../../src/namespaces/init-namespaces.js';
import { NEW_NAMESPACES } from '../../src/namespaces/placement.js';
import { CLONE } from '../../src/sys/process-flags.js';

describe('where an init is born (one spawner, two plans)', () => {
  it("a container's init: new mnt, uts, ipc, net and pid; every one is left and returned to", () => {
    const ns = newContainerNamespaces(NEW_NAMESPACES);
    expect(ns.unshare).toBe(INIT_NAMESPACE_FLAGS);
    expect(ns.join).toEqual([]);
    expect(ns.pass).toEqual([]);
    expect(homeNamespaces(ns)).toEqual(['mnt', 'uts', 'ipc', 'net', 'pid_for_children']);
    // The cgroup namespace is the init's to unshare, once it is in the container's group.
    expect(ns.unshare & CLONE.NEWCGROUP).toBe(0);
  });

  it('--network host: the net namespace is not left at all', () => {
    const ns = newContainerNamespaces({ ...NEW_NAMESPACES, net: { kind: 'host' } });
    expect(ns.unshare & CLONE.NEWNET).toBe(0);
    expect(homeNamespaces(ns)).toEqual(['mnt', 'uts', 'ipc', 'pid_for_children']);
  });

  it("--network container:NAME: the other container's net namespace is joined, and returned from", () => {
    const ns = newContainerNamespaces({ ...NEW_NAMESPACES, net: { kind: 'join', fd: 42 } });
    expect(ns.unshare & CLONE.NEWNET).toBe(0);
    expect(ns.join).toEqual([expect.objectContaining({ fd: 42, flag: CLONE.NEWNET })]);
    expect(homeNamespaces(ns)).toContain('net');
  });

  it('--pid container:NAME: joined, so the init is born in that PID namespace; pid_for_children is returned from; a late netns goes as fd 4', () => {
    const ns = newContainerNamespaces({ ...NEW_NAMESPACES, pid: { kind: 'join', fd: 7 }, net: { kind: 'new' } }, 9);
    expect(ns.unshare & CLONE.NEWPID).toBe(0);
    expect(ns.join).toEqual([expect.objectContaining({ fd: 7, flag: CLONE.NEWPID })]);
    expect(homeNamespaces(ns)).toContain('pid_for_children');
    expect(ns.pass).toEqual([9]);
    // --pid host: not left, so nothing to return from
    expect(homeNamespaces(newContainerNamespaces({ ...NEW_NAMESPACES, pid: { kind: 'host' } }))).not.toContain('pid_for_children');
  });

  it("an exec-init: a private mount namespace, the container's uts/ipc/net/cgroup, and never its PID namespace", () => {
    const ns = joinContainerNamespaces({ uts: 10, ipc: 11, net: 12, cgroup: 13, mnt: 14, pid: 15 });
    // New mount namespace only: node is bound read-only there (CVE-2019-5736).
    expect(ns.unshare).toBe(CLONE.NEWNS);
    expect(ns.join.map((j) => [j.fd, j.flag])).toEqual([
      [10, CLONE.NEWUTS],
      [11, CLONE.NEWIPC],
      [12, CLONE.NEWNET],
      [13, CLONE.NEWCGROUP],
    ]);
    // The mount and PID namespaces go to the exec-init as fds 4 and 5; the spawning thread
    // does not enter the PID namespace, so the exec-init is born in the host's.
    expect(ns.pass).toEqual([14, 15]);
    expect(ns.join.some((j) => j.flag === CLONE.NEWPID)).toBe(false);
    expect(homeNamespaces(ns)).toEqual(['mnt', 'uts', 'ipc', 'net', 'cgroup']);
  });
});
