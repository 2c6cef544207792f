/**
 * One namespace at a time: docker's --pid, --ipc, --uts and --cgroupns, parsed and checked in
 * pure code before anything is created (one line, exit 125, otherwise). --network has its own
 * module (network/container-network-config.ts); these follow its shape.
 *
 *   private     a namespace of the container's own (the default of every type here)
 *   shareable   --ipc only: its own, and other containers may join it (docker's rule: a
 *               container joins another's IPC namespace only when that one allowed it)
 *   host        the host's: the namespace is simply not unshared
 *   container:X X's: the init is started in it (setns to X's init's /proc/PID/ns/TYPE)
 *
 * What each mode gives up is in docs/security.md ("Sharing namespaces") and
 * docs/how-containers-work.md (lesson 1).
 */
import { UsageError } from '../errors.js';

export type PidMode = { kind: 'private' } | { kind: 'host' } | { kind: 'container'; name: string };
export type IpcMode = { kind: 'private' } | { kind: 'shareable' } | { kind: 'host' } | { kind: 'container'; name: string };
export type UtsMode = 'private' | 'host';
export type CgroupnsMode = 'private' | 'host';

export interface NamespaceModes {
  pid: PidMode;
  ipc: IpcMode;
  uts: UtsMode;
  cgroupns: CgroupnsMode;
  /**
   * The containers joined (container:NAME), by id, resolved when the spec is built: what
   * `tsbox rm` of a joined container checks (runtime/namespace-users.ts), and what the run
   * opens /proc/PID/ns/* of. Names may change (rename); ids do not.
   */
  joins: { pid?: string; ipc?: string };
}

export const DEFAULT_NAMESPACE_MODES: NamespaceModes = { pid: { kind: 'private' }, ipc: { kind: 'private' }, uts: 'private', cgroupns: 'private', joins: {} };

export interface NamespaceFlags {
  pid?: string | undefined;
  ipc?: string | undefined;
  uts?: string | undefined;
  cgroupns?: string | undefined;
  /** --hostname given: it conflicts with --uts host. */
  hostname?: string | undefined;
}

const bad = (flag: string, what: string, hint: string) => new UsageError(`invalid ${flag} '${what}'`, { step: 'namespaces', hint });

function containerRef(flag: string, text: string): string {
  const name = text.slice('container:'.length);
  if (name === '') throw new UsageError(`${flag} container: names no container`, { step: 'namespaces', hint: `Give the name or id of a running container: ${flag} container:NAME.` });
  return name;
}

export function parsePidMode(text: string | undefined): PidMode {
  if (text === undefined || text === '' || text === 'private') return { kind: 'private' };
  if (text === 'host') return { kind: 'host' };
  if (text.startsWith('container:')) return { kind: 'container', name: containerRef('--pid', text) };
  throw bad('--pid', text, 'Use --pid host or --pid container:NAME (the default is a PID namespace of its own).');
}

export function parseIpcMode(text: string | undefined): IpcMode {
  if (text === undefined || text === '' || text === 'private') return { kind: 'private' };
  if (text === 'shareable' || text === 'host') return { kind: text };
  if (text.startsWith('container:')) return { kind: 'container', name: containerRef('--ipc', text) };
  throw bad('--ipc', text, 'Use --ipc private, shareable, host or container:NAME.');
}

export function parseUtsMode(text: string | undefined): UtsMode {
  if (text === undefined || text === '' || text === 'private') return 'private';
  if (text === 'host') return 'host';
  throw bad('--uts', text, 'Use --uts host (the default is a UTS namespace of its own).');
}

export function parseCgroupnsMode(text: string | undefined): CgroupnsMode {
  if (text === undefined || text === '' || text === 'private') return 'private';
  if (text === 'host') return 'host';
  throw bad('--cgroupns', text, 'Use --cgroupns host or --cgroupns private (the default).');
}

/** The flags as modes, their combinations checked; `joins` is filled by resolveJoins. */
export function parseNamespaceModes(flags: NamespaceFlags): NamespaceModes {
  const modes: NamespaceModes = {
    pid: parsePidMode(flags.pid),
    ipc: parseIpcMode(flags.ipc),
    uts: parseUtsMode(flags.uts),
    cgroupns: parseCgroupnsMode(flags.cgroupns),
    joins: {},
  };
  // docker: "Conflicting options: hostname and the UTS mode". Setting it would rename the host.
  if (modes.uts === 'host' && flags.hostname !== undefined) {
    throw new UsageError('--hostname cannot be used with --uts host: the container shares the host\'s hostname, and setting it would rename the host', { step: 'namespaces', hint: 'Drop --hostname, or drop --uts host.' });
  }
  return modes;
}

/** What the state store says of a container a mode names. */
export interface JoinTarget {
  id: string;
  running: boolean;
  /** Its --ipc mode: only a shareable (or host) IPC namespace may be joined. */
  ipc: IpcMode['kind'];
}

/**
 * container:NAME resolved to ids, checked: the container must exist and run (its init's
 * namespaces are what we join), and an IPC namespace must be shareable. `lookup` returns
 * null for an unknown name (it may throw its own error for an ambiguous one).
 */
export function resolveJoins(modes: NamespaceModes, lookup: (name: string) => JoinTarget | null): NamespaceModes {
  const joins: NamespaceModes['joins'] = {};
  const find = (flag: string, name: string): JoinTarget => {
    const t = lookup(name);
    if (!t) throw new UsageError(`${flag} container:${name}: no such container`, { step: 'namespaces', hint: 'See tsbox ps -a for the containers there are.' });
    if (!t.running) throw new UsageError(`${flag} container:${name}: the container is not running`, { step: 'namespaces', hint: `Start it first (tsbox start ${name}): its namespaces live as long as its processes.` });
    return t;
  };
  if (modes.pid.kind === 'container') joins.pid = find('--pid', modes.pid.name).id;
  if (modes.ipc.kind === 'container') {
    const t = find('--ipc', modes.ipc.name);
    if (t.ipc !== 'shareable' && t.ipc !== 'host') {
      throw new UsageError(`--ipc container:${modes.ipc.name}: its IPC namespace is not shareable (it runs with --ipc ${t.ipc})`, { step: 'namespaces', hint: 'Start the container to be joined with --ipc shareable, as docker asks.' });
    }
    joins.ipc = t.id;
  }
  return { ...modes, joins };
}

/** Whether the init is born in new PID, IPC and UTS namespaces, as the early init (namespaces/early-init.ts) is. */
export const ownPidIpcUts = (m: NamespaceModes): boolean => m.pid.kind === 'private' && (m.ipc.kind === 'private' || m.ipc.kind === 'shareable') && m.uts === 'private';

/** docker's HostConfig fields for inspect: "" for its own PID and UTS namespaces, as docker prints them. */
export function dockerModes(m: NamespaceModes): { PidMode: string; IpcMode: string; UTSMode: string; CgroupnsMode: string } {
  const withName = (mode: { kind: string; name?: string }) => (mode.kind === 'container' ? `container:${mode.name}` : mode.kind);
  return {
    PidMode: m.pid.kind === 'private' ? '' : withName(m.pid),
    IpcMode: withName(m.ipc),
    UTSMode: m.uts === 'private' ? '' : 'host',
    CgroupnsMode: m.cgroupns,
  };
}


/**
 * What each switched-off isolation gives up, one plain sentence per switch, for --explain
 * (another part of tsbox prints them; docs/security.md "Sharing namespaces" has the detail).
 * Empty for a container with every namespace its own.
 */
export function whatIsGivenUp(m: NamespaceModes): string[] {
  const out: string[] = [];
  if (m.pid.kind === 'host') out.push('--pid host: no new PID namespace; the container sees every host process in its /proc, can signal them (root in it holds CAP_KILL), and its command is not PID 1, so nothing reaps or kills its children for it.');
  if (m.pid.kind === 'container') out.push(`--pid container:${m.pid.name}: the init is born in ${m.pid.name}'s PID namespace (setns before the spawn); the two containers see and can signal each other's processes, and when ${m.pid.name}'s PID 1 exits the kernel kills this container too.`);
  if (m.ipc.kind === 'host') out.push("--ipc host: no new IPC namespace; the host's System V shared memory, semaphores and message queues are the container's to read and write where their modes allow.");
  if (m.ipc.kind === 'shareable') out.push('--ipc shareable: an IPC namespace of its own, which other containers may join with --ipc container:NAME.');
  if (m.ipc.kind === 'container') out.push(`--ipc container:${m.ipc.name}: the container's System V IPC objects and message queues are ${m.ipc.name}'s.`);
  if (m.uts === 'host') out.push("--uts host: no new UTS namespace; the container has the host's hostname, and tsbox does not set one (it would rename the host).");
  if (m.cgroupns === 'host') out.push("--cgroupns host: no cgroup namespace; /proc/self/cgroup shows the group's full host path, and /sys/fs/cgroup the host's whole tree (read-only).");
  return out;
}
