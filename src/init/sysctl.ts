/**
 * --sysctl (and an OCI config's linux.sysctl): the init writes each value to
 * /proc/sys/<name> in the container's namespaces. Which names are allowed is decided in the
 * parent (spec/sysctl.ts); here is when and how they are written.
 *
 * When: right after the container's /proc is mounted (the plan's proc mount step), before
 * the mount plan makes /proc/sys read-only and before security drops the capabilities a
 * write needs. The init is already in the container's IPC and network namespaces, which
 * are the ones /proc/sys/kernel/shm* and /proc/sys/net/* show to the process that opens them.
 *
 * How: inside the container's root, never through a symlink (fs/in-root with noSymlinks,
 * then the last name opened O_NOFOLLOW): /proc was just mounted there, but the path is
 * resolved the same way as every other path in the root.
 */
import { TsboxError } from '../errors.js';
import { InRoot, type InRootSys } from '../fs/in-root/resolver.js';
import type { MountStep } from '../mounts/plan.js';
import type { SysctlPlan } from './protocol.js';

/** The /proc/sys path of a sysctl, as components: net.ipv4.ip_forward -> proc, sys, net, ipv4, ip_forward. */
export function sysctlComponents(name: string): string[] {
  const parts = name.split('.');
  if (parts.length < 2 || parts.some((p) => p === '' || p === '..' || p.includes('/'))) throw new TsboxError(`'${name}' is not a sysctl name`);
  return ['proc', 'sys', ...parts];
}

/** The mount step after which the sysctls are written: the one that mounts /proc. */
export function sysctlWritePoint(mounts: readonly MountStep[]): MountStep | undefined {
  return mounts.find((m) => m.op === 'mount' && m.fstype === 'proc' && m.target === '/proc');
}

export interface SysctlSys {
  inRoot: InRootSys;
  openWriteAt(dirFd: number, name: string): number;
  writeAll(fd: number, data: Uint8Array): void;
}

export function writeSysctls(root: string, sysctls: readonly SysctlPlan[], sys: SysctlSys): void {
  if (sysctls.length === 0) return;
  const r = InRoot.open(root, sys.inRoot);
  try {
    for (const s of sysctls) writeOne(r, s, sys);
  } finally {
    r.close();
  }
}

function writeOne(r: InRoot, s: SysctlPlan, sys: SysctlSys): void {
  const components = sysctlComponents(s.name);
  let dirFd: number | undefined;
  let fd: number | undefined;
  try {
    dirFd = r.openDir(components.slice(0, -1), { noSymlinks: true });
    fd = sys.openWriteAt(dirFd, components.at(-1)!);
    sys.writeAll(fd, Buffer.from(s.value));
  } catch (err) {
    throw explain(err, s);
  } finally {
    if (fd !== undefined) sys.inRoot.close(fd);
    if (dirFd !== undefined) sys.inRoot.close(dirFd);
  }
}

function explain(err: unknown, s: SysctlPlan): unknown {
  const code = (err as { code?: string }).code;
  const what = `cannot set sysctl ${s.name}=${s.value}`;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new TsboxError(`${what}: the kernel has no such setting in the container's namespaces`, { hint: 'Check the name (sysctl -a on the host); some net.core settings exist only in the host\'s network namespace.', cause: err });
  if (code === 'EINVAL' || code === 'ERANGE') return new TsboxError(`${what}: the kernel refused the value`, { hint: 'Check the value\'s range and format for this setting.', cause: err });
  if (err instanceof TsboxError) return new TsboxError(`${what}: ${err.message}`, { hint: err.hint, cause: err });
  return err;
}
