/**
 * linux.sysctl -> the /proc/sys files to write inside the container, refusing any that
 * would change the host: a sysctl is only allowed where the namespace it belongs to is
 * the container's own (runc's validator rules):
 *   - IPC: kernel.msgmax, msgmnb, msgmni, sem, shmall, shmmax, shmmni, shm_rmid_forced and fs.mqueue.*
 *   - network: net.*
 *   - UTS: kernel.hostname, kernel.domainname
 *   - everything else is global to the kernel and refused.
 * A namespace joined by path counts as the container's unless the bundle probe saw that it
 * is the runtime's own (nodeBundleFs compares the nsfs inodes, as runc does). Pure.
 */
import type { Fail } from './errors.js';
import { hasOwn, type NamespacePlan } from './namespaces.js';

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
const UTS_SYSCTLS = new Set(['kernel.hostname', 'kernel.domainname']);

export interface SysctlWrite {
  /** As config.json names it, dots normalised: "net.ipv4.ip_forward". */
  name: string;
  /** The file under /proc/sys: "net/ipv4/ip_forward" ('/' in a name, as in "eth0/100", is a '.' in the file name). */
  file: string;
  value: string;
}

/** A name segment: no separators, not "." or "..". */
const SEGMENT = /^[A-Za-z0-9_@:+.-]+$/;

export function planSysctls(sysctl: Readonly<Record<string, string>>, ns: NamespacePlan, fail: Fail): SysctlWrite[] {
  const out: SysctlWrite[] = [];
  for (const [raw, value] of Object.entries(sysctl)) {
    const where = `linux.sysctl.${raw}`;
    // sysctl(8)'s two spellings: "net.ipv4.conf.eth0/100.forwarding" and "net/ipv4/conf/eth0.100/forwarding"
    // (the first separator tells which); a segment may hold the other separator (an interface name).
    const slashFirst = raw.search(/[./]/) >= 0 && raw[raw.search(/[./]/)] === '/';
    const parts = slashFirst ? raw.split('/') : raw.split('.').map((p) => p.replace(/\//g, '.'));
    if (parts.length < 2 || !parts.every((p) => SEGMENT.test(p) && p !== '.' && p !== '..')) throw fail(where, `'${raw}' is not a sysctl name`);
    const name = parts.map((p) => p.replace(/\./g, '/')).join('.');
    if (value.includes('\n')) throw fail(where, 'the value contains a newline');
    const owner = IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.') ? 'ipc' : name.startsWith('net.') ? 'network' : UTS_SYSCTLS.has(name) ? 'uts' : null;
    if (owner === null) throw fail(where, `'${name}' is not in a namespace of the container's own: setting it would change the host`);
    if (!hasOwn(ns, owner)) throw fail(where, `'${name}' belongs to the ${owner} namespace, and the container shares the host's`, `Add {"type": "${owner}"} to linux.namespaces, or drop the sysctl.`);
    out.push({ name, file: parts.join('/'), value });
  }
  return out;
}
