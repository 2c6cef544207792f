/**
 * Where the container's init is born, per namespace type (pure: unit-tested without koffi).
 * The mount namespace is always new; net, pid, ipc and uts are new (the default), the host's
 * (--pid host, --network host...: simply not unshared), or another container's (container:NAME:
 * joined by an fd the caller opened from that container's /proc/PID/ns/TYPE, see
 * init-placement.ts). The cgroup namespace is the init's own business (init/story.ts).
 */
import { CLONE } from '../sys/process-flags.js';
import type { NamespaceModes } from './modes.js';

/** `what` names a joined namespace in errors (default: the --flag container: it came from). */
export type NsChoice = { kind: 'new' } | { kind: 'host' } | { kind: 'join'; fd: number; what?: string };
export interface InitPlacement {
  net: NsChoice;
  pid: NsChoice;
  ipc: NsChoice;
  uts: NsChoice;
}
const NEW: NsChoice = { kind: 'new' };
export const NEW_NAMESPACES: InitPlacement = { net: NEW, pid: NEW, ipc: NEW, uts: NEW };

/** The flag of each type a placement chooses for. */
export const PLACED = { net: CLONE.NEWNET, pid: CLONE.NEWPID, ipc: CLONE.NEWIPC, uts: CLONE.NEWUTS } as const;

/** unshare's flags for a placement: the mount namespace, and every type that is to be new. */
export function unshareFlags(placement: InitPlacement): number {
  let flags = CLONE.NEWNS;
  for (const [type, flag] of Object.entries(PLACED)) if (placement[type as keyof InitPlacement].kind === 'new') flags |= flag;
  return flags;
}

/**
 * --pid container:NAME with --network host or container:X: NAME's processes see our init from
 * its first instruction, while it is still node with the host's root, dumpable and without
 * its SIGUSR1 listener. A SIGUSR1 then starts Node's inspector on 127.0.0.1:9229 of the
 * init's network namespace (reproduced: "Debugger listening on ws://127.0.0.1:9229" in a
 * shared network, reachable from NAME). So the init is born in a fresh network namespace,
 * where such an inspector reaches no one, and joins the real one itself once it is safe
 * (init/story.ts, plan.lateNetns); it also refuses to go on if an inspector was started.
 */
export const joinsNetworkLate = (spec: { namespaces: NamespaceModes; network: { mode: { kind: string } } }): boolean =>
  spec.namespaces.pid.kind === 'container' && (spec.network.mode.kind === 'host' || spec.network.mode.kind === 'container');
