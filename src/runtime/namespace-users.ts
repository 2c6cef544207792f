/**
 * Containers that share another container's namespaces (--pid/--ipc container:NAME), as the
 * state store knows them: what a joiner may join (when its spec is built), which init's
 * /proc/PID/ns/* it opens (when it starts), and who still uses a container that `rm` is
 * asked to remove.
 *
 * Why rm refuses: a PID namespace dies with its first process, and the kernel then kills
 * every other process in it, so removing the container a `--pid container:` joined would
 * kill the joiner too, silently; an IPC namespace outlives it, but the joiner would go on
 * sharing memory with a container that no longer exists anywhere but in its own view; and
 * removing the container a `--network container:` joined releases its network (its veth,
 * its address) under the joiner. The user decides: stop the joiner first.
 */
import { readConfigFile } from '../container/config-file.js';
import { TsboxError, UsageError } from '../errors.js';
import { DEFAULT_NAMESPACE_MODES, type JoinTarget, type NamespaceModes } from '../namespaces/modes.js';
import type { ContainerRecord } from './state/record.js';
import { StateStore } from './state/store.js';

const isRunning = (store: StateStore, r: ContainerRecord): boolean => r.status === 'running' && r.pid !== null && store.ownerAlive(r.shortId);

function sharingOf(store: StateStore, r: ContainerRecord): { modes: NamespaceModes; network: string | null } {
  try {
    const spec = readConfigFile(store.paths(r.shortId).spec);
    const net = spec.network?.mode;
    return { modes: spec.namespaces ?? DEFAULT_NAMESPACE_MODES, network: net?.kind === 'container' ? net.name : null };
  } catch {
    return { modes: DEFAULT_NAMESPACE_MODES, network: null }; // no config (an old record) or gone meanwhile: shares nothing
  }
}
const modesOf = (store: StateStore, r: ContainerRecord): NamespaceModes => sharingOf(store, r).modes;

/** --network container:REF names `target` (REF as given: a name, an id or an id prefix). */
const namesTarget = (ref: string, target: ContainerRecord): boolean => ref === target.name || ref === target.id || (/^[0-9a-f]{1,64}$/.test(ref) && target.id.startsWith(ref));

/** For namespaces/modes.ts resolveJoins: a name, id or id prefix in this state dir. */
export function joinTargetLookup(stateDir: string): (name: string) => JoinTarget | null {
  return (name) => {
    const store = new StateStore(stateDir);
    const r = store.list().find((c) => c.name === name || c.id === name || (/^[0-9a-f]+$/.test(name) && c.id.startsWith(name)));
    if (!r) return null;
    const running = isRunning(store, r);
    return { id: r.id, running, ipc: running ? modesOf(store, r).ipc.kind : 'private' };
  };
}

/**
 * The pid of the init whose namespaces a starting container joins (by id, resolved with its
 * spec); refused in one line when that container stopped since. Its /proc/PID/ns/* are
 * opened right after: a container that exits in between makes that open fail, also clearly.
 */
export function joinedInitPid(stateDir: string, id: string, flag: string): number {
  const store = new StateStore(stateDir);
  const r = store.list().find((c) => c.id === id);
  if (!r || !isRunning(store, r)) {
    throw new TsboxError(`${flag} container:${r?.name ?? id.slice(0, 12)}: the container is not running`, { step: 'namespaces', hint: 'Start it first: its namespaces live as long as its processes.' });
  }
  return r.pid!;
}

/** Running containers that joined one of `target`'s namespaces, with which ones. */
export function namespaceUsers(store: StateStore, target: ContainerRecord): { name: string; types: string[] }[] {
  const users: { name: string; types: string[] }[] = [];
  for (const r of store.list()) {
    if (r.id === target.id || !isRunning(store, r)) continue;
    const { modes, network } = sharingOf(store, r);
    const types: string[] = (['pid', 'ipc'] as const).filter((t) => modes.joins[t] === target.id);
    // --network container:NAME keeps the name as given: removing NAME would release the network it shares (its eth0 too).
    if (network !== null && namesTarget(network, target)) types.push('network');
    if (types.length > 0) users.push({ name: r.name ?? r.shortId, types });
  }
  return users;
}

/** `tsbox rm` (also -f) of a container whose namespaces a running container shares: refused, saying who. */
export function checkNotJoined(store: StateStore, target: ContainerRecord): void {
  const users = namespaceUsers(store, target);
  if (users.length === 0) return;
  const who = users.map((u) => `${u.name} (${u.types.join(', ')})`).join(', ');
  const u = users[0]!;
  throw new UsageError(`container ${target.name ?? target.shortId} cannot be removed: running container ${who} shares its namespaces`, {
    step: 'rm',
    hint: `Stop ${u.name} first (tsbox stop ${u.name}); removing it would ${u.types.includes('pid') ? 'kill every process of ' + u.name + ' with it' : `leave ${u.name} sharing a namespace (or losing the network) of a removed container`}.`,
  });
}
