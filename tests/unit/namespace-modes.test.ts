import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_NAMESPACE_MODES, dockerModes, ownPidIpcUts, parseNamespaceModes, resolveJoins, type JoinTarget } from '../../src/namespaces/modes.js';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

/** The one line a bad flag gives (what cli/render-error.ts prints, without the step). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(125);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('--pid, --ipc, --uts, --cgroupns', () => {
  it('default to namespaces of the container\'s own', () => {
    expect(parseNamespaceModes({})).toEqual(DEFAULT_NAMESPACE_MODES);
    expect(parseNamespaceModes({ pid: 'private', ipc: 'private', uts: 'private', cgroupns: 'private' })).toEqual(DEFAULT_NAMESPACE_MODES);
    expect(dockerModes(DEFAULT_NAMESPACE_MODES)).toEqual({ PidMode: '', IpcMode: 'private', UTSMode: '', CgroupnsMode: 'private' });
    expect(ownPidIpcUts(DEFAULT_NAMESPACE_MODES)).toBe(true);
  });

  it('read docker\'s modes and name them as docker inspect does', () => {
    const m = parseNamespaceModes({ pid: 'host', ipc: 'container:db', uts: 'host', cgroupns: 'host' });
    expect(m).toMatchObject({ pid: { kind: 'host' }, ipc: { kind: 'container', name: 'db' }, uts: 'host', cgroupns: 'host' });
    expect(dockerModes(m)).toEqual({ PidMode: 'host', IpcMode: 'container:db', UTSMode: 'host', CgroupnsMode: 'host' });
    expect(dockerModes(parseNamespaceModes({ pid: 'container:web', ipc: 'shareable' }))).toMatchObject({ PidMode: 'container:web', IpcMode: 'shareable' });
    expect(ownPidIpcUts(parseNamespaceModes({ ipc: 'shareable', cgroupns: 'host' }))).toBe(true);
    for (const f of [{ pid: 'host' }, { ipc: 'host' }, { uts: 'host' }, { pid: 'container:x' }]) expect(ownPidIpcUts(parseNamespaceModes(f)), JSON.stringify(f)).toBe(false);
  });

  it('refuse unknown modes, an empty container name, and --hostname with --uts host', () => {
    expect(refusal(() => parseNamespaceModes({ pid: 'hots' }))).toBe("invalid --pid 'hots'");
    expect(refusal(() => parseNamespaceModes({ ipc: 'none' }))).toBe("invalid --ipc 'none'");
    expect(refusal(() => parseNamespaceModes({ uts: 'container:x' }))).toBe("invalid --uts 'container:x'");
    expect(refusal(() => parseNamespaceModes({ cgroupns: 'shared' }))).toBe("invalid --cgroupns 'shared'");
    expect(refusal(() => parseNamespaceModes({ pid: 'container:' }))).toMatch(/--pid container: names no container/);
    expect(refusal(() => parseNamespaceModes({ uts: 'host', hostname: 'x' }))).toMatch(/--hostname cannot be used with --uts host/);
    expect(parseNamespaceModes({ uts: 'private', hostname: 'x' }).uts).toBe('private');
  });
});

describe('joining another container\'s namespaces', () => {
  const targets: Record<string, JoinTarget> = {
    db: { id: ID_A, running: true, ipc: 'shareable' },
    web: { id: ID_B, running: true, ipc: 'private' },
    old: { id: ID_B, running: false, ipc: 'shareable' },
  };
  const lookup = (name: string) => targets[name] ?? null;

  it('resolves names to ids', () => {
    expect(resolveJoins(parseNamespaceModes({ pid: 'container:web', ipc: 'container:db' }), lookup).joins).toEqual({ pid: ID_B, ipc: ID_A });
    expect(resolveJoins(parseNamespaceModes({ pid: 'host' }), lookup).joins).toEqual({});
  });

  it('refuses a container that does not exist, does not run, or whose IPC namespace is not shareable', () => {
    expect(refusal(() => resolveJoins(parseNamespaceModes({ pid: 'container:nope' }), lookup))).toBe('--pid container:nope: no such container');
    expect(refusal(() => resolveJoins(parseNamespaceModes({ pid: 'container:old' }), lookup))).toBe('--pid container:old: the container is not running');
    expect(refusal(() => resolveJoins(parseNamespaceModes({ ipc: 'container:web' }), lookup))).toMatch(/IPC namespace is not shareable \(it runs with --ipc private\)/);
  });
});

describe('a pid as its own namespace numbers it (tsbox exec into a shared PID namespace)', () => {
  it('is the last NSpid field', async () => {
    const { innermostPid } = await import('../../src/namespaces/ns-pid.js');
    expect(innermostPid('Name:\tsh\nNSpid:\t4242\t1\n')).toBe(1);
    expect(innermostPid('NSpid:\t4242\n')).toBe(4242); // --pid host
    expect(innermostPid('NSpid:\t5000\t7\n')).toBe(7); // --pid container:NAME
    expect(innermostPid('Name:\tsh\n')).toBeNull();
  });
});

describe('where the init is born', () => {
  it('unshares the mount namespace always, and each of net, pid, ipc, uts only when it is to be new', async () => {
    const { NEW_NAMESPACES, unshareFlags } = await import('../../src/namespaces/placement.js');
    const { CLONE } = await import('../../src/sys/process-flags.js');
    expect(unshareFlags(NEW_NAMESPACES)).toBe(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWPID);
    expect(unshareFlags({ ...NEW_NAMESPACES, pid: { kind: 'host' }, uts: { kind: 'host' } })).toBe(CLONE.NEWNS | CLONE.NEWIPC | CLONE.NEWNET);
    // Joined ones are entered with setns after the unshare, not unshared.
    expect(unshareFlags({ net: { kind: 'join', fd: 9 }, pid: { kind: 'join', fd: 10 }, ipc: { kind: 'host' }, uts: { kind: 'new' } })).toBe(CLONE.NEWNS | CLONE.NEWUTS);
  });
});

describe('the joiner of a PID namespace joins a shared network late', () => {
  it('only with --pid container: and --network host or container:', async () => {
    const { joinsNetworkLate } = await import('../../src/namespaces/placement.js');
    const net = (kind: string) => ({ mode: { kind } });
    const joined = parseNamespaceModes({ pid: 'container:db' });
    expect(joinsNetworkLate({ namespaces: joined, network: net('container') })).toBe(true);
    expect(joinsNetworkLate({ namespaces: joined, network: net('host') })).toBe(true);
    expect(joinsNetworkLate({ namespaces: joined, network: net('none') })).toBe(false);
    expect(joinsNetworkLate({ namespaces: joined, network: net('bridge') })).toBe(false);
    expect(joinsNetworkLate({ namespaces: parseNamespaceModes({ pid: 'host' }), network: net('container') })).toBe(false);
    expect(joinsNetworkLate({ namespaces: DEFAULT_NAMESPACE_MODES, network: net('container') })).toBe(false);
  });
});

describe('what each switch gives up (for --explain)', () => {
  it('says nothing for the defaults and one sentence per switched-off isolation', async () => {
    const { whatIsGivenUp } = await import('../../src/namespaces/modes.js');
    expect(whatIsGivenUp(DEFAULT_NAMESPACE_MODES)).toEqual([]);
    const all = whatIsGivenUp(parseNamespaceModes({ pid: 'container:db', ipc: 'host', uts: 'host', cgroupns: 'host' }));
    expect(all).toHaveLength(4);
    expect(all[0]).toMatch(/^--pid container:db: .*when db's PID 1 exits the kernel kills this container too\.$/);
    expect(all.map((s) => s.split(':')[0])).toEqual(['--pid container', '--ipc host', '--uts host', '--cgroupns host']);
  });
});
