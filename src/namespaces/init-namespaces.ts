/**
 * Where an init is born, decided here and carried out by spawn-init.ts: which namespaces
 * the spawning thread unshares (the child is born in new ones), which of another process's
 * it enters with setns (the child is born in those), and which it hands over as fds for the
 * child to enter itself. Pure: no FFI, unit-tested.
 *
 *   container's init   a new mnt; net, pid, ipc and uts as its placement says (placement.ts:
 *                      new by default, the host's, or another container's joined by fd; with a
 *                      new pid namespace the init is its PID 1), and a network namespace it
 *                      joins itself later as fd 4 (init-placement.ts). Its cgroup namespace is
 *                      unshared by the init, after it joined the container's cgroup, so that
 *                      the group is "/" inside.
 *   exec-init          the container's uts, ipc, net and cgroup; a private new mnt (where node
 *                      is a read-only bind) and the container's mnt and pid as fds 4 and 5:
 *                      it joins the mount namespace itself (it starts from the host's files),
 *                      and never the PID namespace: it only makes it where its child, the
 *                      command, is born (docs/security.md, finding 1).
 */
import { CLONE } from '../sys/process-flags.js';
import { PLACED, unshareFlags, type InitPlacement } from './placement.js';

export interface NamespaceJoin {
  fd: number;
  /** The CLONE_NEW* flag the kernel checks the fd against. */
  flag: number;
  /** Named by an error. */
  what: string;
}

export interface InitNamespaces {
  /** CLONE_NEW* flags unshared by the spawning thread. */
  unshare: number;
  /** Entered by the spawning thread after the unshare. */
  join: readonly NamespaceJoin[];
  /** Handed to the child as fds 4, 5, ... in this order. */
  pass: readonly number[];
}

/** Each namespace with the /proc/self/ns name that returns us to ours (pid: where children are born). */
const HOME_NAMES: readonly { flag: number; file: string }[] = [
  { flag: CLONE.NEWNS, file: 'mnt' },
  { flag: CLONE.NEWUTS, file: 'uts' },
  { flag: CLONE.NEWIPC, file: 'ipc' },
  { flag: CLONE.NEWNET, file: 'net' },
  { flag: CLONE.NEWPID, file: 'pid_for_children' },
  { flag: CLONE.NEWCGROUP, file: 'cgroup' },
];

/** The namespaces the container's init is born in by default, new. */
export const INIT_NAMESPACE_FLAGS = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWPID;

/** `lateNetns`: the fd of the network namespace the init joins itself (fd 4, LATE_NETNS_FD). */
export function newContainerNamespaces(placement: InitPlacement, lateNetns: number | null = null): InitNamespaces {
  const join: NamespaceJoin[] = [];
  for (const [type, flag] of Object.entries(PLACED)) {
    const choice = placement[type as keyof InitPlacement];
    if (choice.kind === 'join') join.push({ fd: choice.fd, flag, what: choice.what ?? `the ${type} namespace of --${type === 'net' ? 'network' : type} container:` });
  }
  return { unshare: unshareFlags(placement), join, pass: lateNetns === null ? [] : [lateNetns] };
}

/** A running container's namespaces, as fds opened from /proc/<its pid>/ns. */
export interface ContainerNamespaceFds {
  uts: number;
  ipc: number;
  net: number;
  cgroup: number;
  mnt: number;
  pid: number;
}

/** The exec-init's fds 4 and 5 (init/exec-protocol.ts: MNT_NS_FD, PID_NS_FD). */
export function joinContainerNamespaces(fds: ContainerNamespaceFds): InitNamespaces {
  return {
    unshare: CLONE.NEWNS,
    join: [
      { fd: fds.uts, flag: CLONE.NEWUTS, what: "the container's uts namespace" },
      { fd: fds.ipc, flag: CLONE.NEWIPC, what: "the container's ipc namespace" },
      { fd: fds.net, flag: CLONE.NEWNET, what: "the container's net namespace" },
      { fd: fds.cgroup, flag: CLONE.NEWCGROUP, what: "the container's cgroup namespace" },
    ],
    pass: [fds.mnt, fds.pid],
  };
}

/** The /proc/self/ns files to hold before leaving, to come back to each namespace we leave. */
export function homeNamespaces(ns: InitNamespaces): string[] {
  const touched = ns.join.reduce((flags, j) => flags | j.flag, ns.unshare);
  return HOME_NAMES.filter((h) => (touched & h.flag) !== 0).map((h) => h.file);
}
