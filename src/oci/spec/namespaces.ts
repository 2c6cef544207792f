/**
 * linux.namespaces -> which namespaces the container's init is cloned into (new ones) and
 * which it joins with setns(2) (those given by path: Kubernetes puts a pod's containers in
 * the pod sandbox's pid, ipc, uts and network namespaces, /proc/PID/ns/...). A type not
 * listed is the runtime's own (shared with the host). Pure.
 *
 * Refused, in one line: unknown types, a type listed twice, `user` (tsbox has no rootless
 * mode yet), `time` (tsbox does not set up time namespaces), a mount namespace given by
 * path (tsbox builds the rootfs in a mount namespace of its own), and no mount namespace
 * at all (tsbox's mounts and pivot_root need one).
 */
import { CLONE } from '../../sys/process-flags.js';
import { USERNS_FIX, type Fail } from './errors.js';
import type { OciNamespace } from './schema.js';

export type OciNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

/** The CLONE_NEW* flag of each type (also setns(2)'s nstype). CLONE_NEWTIME is 0x80. */
export const NAMESPACE_FLAGS: Readonly<Record<OciNamespaceType, number>> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: 0x80,
};

/** What tsbox can do with each type. */
export const SUPPORTED_NAMESPACES: readonly OciNamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup'];

const REFUSED: Partial<Record<OciNamespaceType, string>> = {
  user: 'user namespaces (and uid/gid mappings) are not supported by tsbox yet: it runs containers as root, without a rootless mode',
  time: 'time namespaces are not supported by tsbox',
};

/** The order in which namespaces given by path are joined: the pid namespace last applies to children only anyway. */
const JOIN_ORDER: readonly OciNamespaceType[] = ['ipc', 'uts', 'network', 'cgroup', 'pid'];

export interface NamespaceJoin {
  type: OciNamespaceType;
  /** The namespace file to open and setns(2) into, e.g. /proc/1234/ns/net. */
  path: string;
  /** setns(2)'s nstype: the CLONE_NEW* flag of the type (the kernel checks the fd is one). */
  nstype: number;
  /** The path is the runtime's own namespace (the host's), as the bundle probe saw it. */
  isHost: boolean;
}

export interface NamespacePlan {
  /** CLONE_NEW* flags for the namespaces to create. */
  cloneFlags: number;
  /** Types created anew, in config order. */
  created: OciNamespaceType[];
  /** Types joined by path, in the order to join them (before the new ones are created). */
  joined: NamespaceJoin[];
  /** Types not listed: the container shares the runtime's (the host's). */
  shared: OciNamespaceType[];
}

export function planNamespaces(list: readonly OciNamespace[], fail: Fail, isHost?: (path: string, type: OciNamespaceType) => boolean): NamespacePlan {
  const seen = new Set<OciNamespaceType>();
  const created: OciNamespaceType[] = [];
  const joined: NamespaceJoin[] = [];
  let cloneFlags = 0;
  list.forEach((ns, i) => {
    const where = `linux.namespaces[${i}]`;
    if (!(ns.type in NAMESPACE_FLAGS)) {
      throw fail(`${where}.type`, `unknown namespace type '${ns.type}'; the spec's are ${Object.keys(NAMESPACE_FLAGS).join(', ')}`);
    }
    const type = ns.type as OciNamespaceType;
    if (seen.has(type)) throw fail(`${where}.type`, `the ${type} namespace is listed twice`);
    seen.add(type);
    const refused = REFUSED[type];
    if (refused) throw fail(`${where}.type`, refused, type === 'user' ? USERNS_FIX : undefined);
    const flag = NAMESPACE_FLAGS[type];
    if (ns.path) {
      if (!ns.path.startsWith('/')) throw fail(`${where}.path`, `'${ns.path}' is not an absolute path`);
      if (type === 'mount') throw fail(`${where}.path`, 'joining an existing mount namespace is not supported: tsbox sets up the rootfs in a mount namespace of its own');
      joined.push({ type, path: ns.path, nstype: flag, isHost: isHost?.(ns.path, type) ?? false });
    } else {
      created.push(type);
      cloneFlags |= flag;
    }
  });
  if (!seen.has('mount')) throw fail('linux.namespaces', 'there is no mount namespace; tsbox needs one to set up the container\'s root', 'Add {"type": "mount"}.');
  joined.sort((a, b) => JOIN_ORDER.indexOf(a.type) - JOIN_ORDER.indexOf(b.type));
  const shared = SUPPORTED_NAMESPACES.filter((t) => !seen.has(t));
  return { cloneFlags, created, joined, shared };
}

/** Whether the container has a namespace of its own of this type (new, or joined and not the host's). */
export function hasOwn(plan: NamespacePlan, type: OciNamespaceType): boolean {
  return plan.created.includes(type) || plan.joined.some((j) => j.type === type && !j.isHost);
}
