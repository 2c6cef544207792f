/**
 * The run's namespaces as spawn-init.ts takes them: for each of net, pid, ipc and uts, new,
 * the host's, or another container's. A container joined is found through the state store
 * and entered by its init's /proc/PID/ns/TYPE, opened here and closed once the init is born
 * (the init then holds the namespace itself).
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { TsboxError } from '../errors.js';
import { joinedInitPid } from '../runtime/namespace-users.js';
import { StateStore } from '../runtime/state/store.js';
import type { RunSpec } from '../spec/run-spec.js';
import type { TracedCall } from '../sys/libc.js';
import { joinsNetworkLate } from './placement.js';
import { NEW_NAMESPACES, spawnInitInNamespaces, type InitPlacement, type NsChoice } from './spawn-init.js';

export { joinsNetworkLate } from './placement.js';

/** `calls` (--debug, --explain): receives the checked calls of the spawn (spawn-init.ts). */
export async function spawnInitPlaced(spec: RunSpec, stdio: RunSpec['stdio'], calls?: TracedCall[]): Promise<ChildProcess> {
  const ns = spec.namespaces;
  const net = spec.network.mode;
  if (net.kind !== 'host' && net.kind !== 'container' && ns.pid.kind === 'private' && ns.ipc.kind !== 'host' && ns.ipc.kind !== 'container' && ns.uts === 'private') {
    return spawnInitInNamespaces(stdio, NEW_NAMESPACES, calls); // the common case: nothing to open
  }
  const opened: number[] = [];
  const join = (pid: number, type: string, what: string): NsChoice => {
    try {
      const fd = openSync(`/proc/${pid}/ns/${type}`, 'r');
      opened.push(fd);
      return { kind: 'join', fd };
    } catch (err) {
      throw new TsboxError(`cannot open the ${type} namespace of ${what}: ${(err as Error).message}`, { step: 'namespaces', hint: 'The container has probably just exited.' });
    }
  };
  const openHome = (): number => {
    const fd = openSync('/proc/self/ns/net', 'r');
    opened.push(fd);
    return fd;
  };
  try {
    const placement: InitPlacement = { ...NEW_NAMESPACES };
    if (net.kind === 'host') placement.net = { kind: 'host' };
    if (net.kind === 'container') {
      const target = new StateStore(spec.stateDir).resolve(net.name);
      if (target.status !== 'running' || target.pid === null) throw new TsboxError(`container ${net.name} is not running`, { step: 'network', hint: 'Start it first: --network container:NAME joins a running container\'s network.' });
      placement.net = join(target.pid, 'net', `container ${net.name}`);
    }
    if (ns.pid.kind === 'host') placement.pid = { kind: 'host' };
    if (ns.pid.kind === 'container') placement.pid = join(joinedInitPid(spec.stateDir, ns.joins.pid!, '--pid'), 'pid', `container ${ns.pid.name}`);
    if (ns.ipc.kind === 'host') placement.ipc = { kind: 'host' };
    if (ns.ipc.kind === 'container') placement.ipc = join(joinedInitPid(spec.stateDir, ns.joins.ipc!, '--ipc'), 'ipc', `container ${ns.ipc.name}`);
    if (ns.uts === 'host') placement.uts = { kind: 'host' };
    if (joinsNetworkLate(spec)) {
      const lateNetns = placement.net.kind === 'join' ? placement.net.fd : openHome();
      return await spawnInitInNamespaces(stdio, { ...placement, net: { kind: 'new' } }, calls, lateNetns);
    }
    return await spawnInitInNamespaces(stdio, placement, calls);
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}
