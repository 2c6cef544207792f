/**
 * config.json's mounts, maskedPaths and readonlyPaths -> the steps of an OCI container's
 * mount plan, in the order the config lists them (the spec: "in order"). Pure, with the
 * bundle probe for the one host fact needed: whether a bind's source is a directory or a
 * file (what to create as its mount point), and that it exists.
 *
 * Every target is in-root relative ("dev/pts"): the executor must open it with tsbox's
 * in-root resolver (fs/in-root) and mount on the fd, so that a symlink in the rootfs
 * (or one swapped in while it works) cannot send a mount onto the host.
 */
import { posix } from 'node:path';
import { MS } from '../../sys/mount-flags.js';
import type { Fail } from './errors.js';
import { parseMountOptions } from './mount-options.js';
import { bundlePath, inRootPath, type BundleProbe } from './paths.js';
import type { OciMount } from './schema.js';

interface StepBase {
  /** In-root relative target, e.g. "dev/pts" (never empty: "/" is refused). */
  target: string;
  /** Propagation changes to make on the target after mounting, in order (MS_PRIVATE|MS_REC, ...). */
  propagation: number[];
  /** mount_setattr(AT_RECURSIVE) after mounting, for the r* options (rro, rnosuid...); null: none. */
  recursiveAttr: { set: number; clear: number } | null;
  /** Where it came from, for messages: "mounts[3]". */
  where: string;
}

export type OciMountStep =
  /** A new filesystem: mount(source, target, fstype, flags, data). */
  | (StepBase & { op: 'mount'; fstype: string; source: string; flags: number; data: string; create: 'dir'; copyUp: boolean })
  /**
   * A bind of a host path (absolute). `flags`: the per-mount flags (MS_RDONLY, MS_NOSUID,
   * MS_NODEV, MS_NOEXEC, atime flags) the bind must end up with, set by a remount as runc
   * does; `recursive`: rbind.
   */
  | (StepBase & { op: 'bind'; source: string; recursive: boolean; flags: number; create: 'dir' | 'file' })
  /**
   * A cgroup view ("cgroup" or "cgroup2" in config.json): tsbox has cgroup v2 only. With a
   * cgroup namespace, a cgroup2 mount shows the container's group as its root; without
   * one, the executor binds the container's own group directory there (as runc does).
   */
  | (StepBase & { op: 'cgroup'; flags: number; requested: 'cgroup' | 'cgroup2' });

/** The types mounted as they are (fstype = type); anything else too, see below. */
const CGROUP_TYPES = new Set(['cgroup', 'cgroup2']);

export function planOciMounts(mounts: readonly OciMount[], ctx: { bundle: string; probe: BundleProbe; fail: Fail }): OciMountStep[] {
  return mounts.map((m, i) => planOne(m, `mounts[${i}]`, ctx));
}

function planOne(m: OciMount, where: string, ctx: { bundle: string; probe: BundleProbe; fail: Fail }): OciMountStep {
  const { fail } = ctx;
  if (m.destination.includes('\0')) throw fail(`${where}.destination`, 'contains a NUL byte');
  // The spec allows a relative destination for compatibility: runc reads it from "/".
  const target = inRootPath(m.destination);
  if (target === '') throw fail(`${where}.destination`, `'${m.destination}' is the container's root itself; mount under it`);
  if ((m.uidMappings?.length ?? 0) > 0 || (m.gidMappings?.length ?? 0) > 0) {
    throw fail(`${where}.uidMappings`, 'id-mapped mounts need user namespaces, which tsbox does not support yet', 'Mount the volume without id mapping (podman: without the idmap option).');
  }
  const opts = parseMountOptions(m.options ?? [], (option, why) => fail(`${where}.options`, `'${option}': ${why}`));
  const type = m.type ?? '';
  const base = { target, propagation: opts.propagation, recursiveAttr: opts.recursive, where };

  if (opts.bind || type === 'bind' || type === 'rbind') {
    if (!m.source) throw fail(`${where}.source`, 'a bind mount needs a source');
    // runc works in the bundle directory: a relative source is the bundle's.
    const source = bundlePath(ctx.bundle, m.source);
    const kind = ctx.probe.kind(source);
    if (kind === 'missing') throw fail(`${where}.source`, `${source} does not exist`, 'The engine must create a bind mount\'s source before create.');
    const perMount = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    return { ...base, op: 'bind', source, recursive: opts.recursiveBind || type === 'rbind', flags: perMount, create: kind === 'dir' ? 'dir' : 'file' };
  }
  if (type === '') throw fail(`${where}.type`, 'is required unless the options say bind or rbind');
  if (opts.flags & MS.REMOUNT) throw fail(`${where}.options`, "'remount' makes no sense for a new mount in a new container");
  if (CGROUP_TYPES.has(type)) {
    return { ...base, op: 'cgroup', flags: opts.flags, requested: type as 'cgroup' | 'cgroup2' };
  }
  if (opts.copyUp && type !== 'tmpfs') throw fail(`${where}.options`, "'tmpcopyup' is for tmpfs mounts only");
  return { ...base, op: 'mount', fstype: type, source: m.source || type, flags: opts.flags, data: opts.data, create: 'dir', copyUp: opts.copyUp };
}

/**
 * maskedPaths / readonlyPaths -> in-root relative paths, in order, without duplicates.
 * The executor masks (/dev/null over a file, an empty read-only tmpfs over a directory)
 * or makes read-only (bind on itself, remount ro), skipping paths that do not exist, as
 * tsbox's own 'mask' and 'readonly' steps (mounts/plan.ts) do.
 */
export function planPathList(paths: readonly string[], where: string, fail: Fail): string[] {
  const out: string[] = [];
  paths.forEach((p, i) => {
    if (!posix.isAbsolute(p)) throw fail(`${where}[${i}]`, `'${p}' is not an absolute path`);
    const rel = inRootPath(p);
    if (rel === '') throw fail(`${where}[${i}]`, "'/' cannot be masked or made read-only this way; use root.readonly");
    if (!out.includes(rel)) out.push(rel);
  });
  return out;
}
