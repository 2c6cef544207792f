/**
 * --sysctl NAME=VALUE: which kernel settings a container may set, docker's rules (its
 * ValidateSysctl and runc's config validator). A sysctl is a kernel-wide setting unless
 * the kernel keeps one copy per namespace; only those are allowed, and only when the
 * container has that namespace to itself, so that a container never changes a setting of
 * the host or of another container:
 *
 *   kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*   the IPC namespace (always private in tsbox)
 *   net.*                                               the network namespace: not with
 *                                                       --network host, nor container:NAME
 *                                                       (the other container's settings)
 *   kernel.hostname, kernel.domainname                  the UTS namespace: refused, --hostname
 *                                                       says the same and keeps /etc/hostname right
 *   anything else                                       refused (vm.*, kernel.* ...: host-wide)
 *
 * Some net.* files exist only in the host's namespace (a few net.core ones): the kernel
 * has no such file in the container's /proc/sys and the init fails with its name.
 * Given twice, the last value counts (docker keeps one per name). Pure.
 */
import { UsageError } from '../errors.js';
import type { SysctlPlan } from '../init/protocol.js';

/** The container's network namespace: its own, the host's, or another container's. */
export type NetnsOwnership = 'private' | 'host' | 'shared';

const IPC_EXACT = new Set(['kernel.sem']);
const IPC_PREFIXES = ['kernel.msg', 'kernel.shm', 'fs.mqueue.'];
const UTS = new Set(['kernel.hostname', 'kernel.domainname']);
/** Components as /proc/sys names them (interfaces included: eth0, veth-1, br_0). */
const NAME = /^[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_-]+)+$/;
const HINT = 'Allowed: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and, with a network namespace of its own, net.* (see docs/security.md).';

/** Why `name` may not be set in this container, or null when it may. */
export function sysctlRefusal(name: string, netns: NetnsOwnership): string | null {
  if (UTS.has(name)) return name === 'kernel.hostname' ? 'use --hostname to set the container\'s host name' : 'the UTS namespace is set by tsbox (--hostname)';
  if (IPC_EXACT.has(name) || IPC_PREFIXES.some((p) => name.startsWith(p))) return null;
  if (name.startsWith('net.')) {
    if (netns === 'host') return 'the container uses the host\'s network namespace (--network host): it would change the host\'s setting';
    if (netns === 'shared') return 'the container shares another container\'s network namespace (--network container:): it would change that container\'s setting';
    return null;
  }
  return 'it is not namespaced: it would change the host\'s setting';
}

export function parseSysctl(text: string, netns: NetnsOwnership): SysctlPlan {
  const bad = (why: string, hint = HINT) => new UsageError(`invalid --sysctl '${text}': ${why}`, { hint });
  const eq = text.indexOf('=');
  if (eq <= 0) throw bad('expected NAME=VALUE', 'For example --sysctl net.ipv4.ip_forward=1.');
  // sysctl(8) accepts / as the separator too; /proc/sys names are what we write.
  const name = text.slice(0, eq).replaceAll('/', '.');
  const value = text.slice(eq + 1);
  if (!NAME.test(name)) throw bad(`'${name}' is not a sysctl name`, 'For example --sysctl net.ipv4.ip_forward=1.');
  // One value, one write: a newline would be a second value the kernel reads on its own.
  if (/[\n\r\0]/.test(value)) throw new UsageError(`invalid --sysctl ${name}: the value has a line break or NUL`, { hint: 'Give the value on one line; several numbers are separated by spaces or tabs (kernel.sem="250 32000 32 128").' });
  const refusal = sysctlRefusal(name, netns);
  if (refusal !== null) throw new UsageError(`--sysctl ${name} is not allowed: ${refusal}`, { hint: HINT });
  return { name, value };
}

/** Every --sysctl, one per name, the last given winning, in the order first given. */
export function parseSysctls(texts: readonly string[], netns: NetnsOwnership): SysctlPlan[] {
  const byName = new Map<string, SysctlPlan>();
  for (const t of texts) {
    const s = parseSysctl(t, netns);
    byName.set(s.name, s);
  }
  return [...byName.values()];
}
