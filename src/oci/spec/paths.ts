/**
 * Container paths as the plan carries them: relative to the container's root, normalised,
 * never above it ("dev/pts" for "/dev/pts"). Lexical clamping only: ".." cannot climb
 * above "/" here, and a symlink in the rootfs that points out is the executor's to catch,
 * by resolving the path with tsbox's in-root resolver (src/fs/in-root) at mount time. Pure.
 */
import { isAbsolute, posix } from 'node:path';

/** "/dev/pts" -> "dev/pts", "dev//pts/" -> "dev/pts", "/../etc" -> "etc", "/" -> "". */
export function inRootPath(containerPath: string): string {
  return posix.normalize(`/${containerPath}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** A host path the runtime is given relative to the bundle (root.path, a bind's source): made absolute. */
export function bundlePath(bundle: string, path: string): string {
  return isAbsolute(path) ? posix.normalize(path) : posix.join(bundle, path);
}

/** Whether a relative path, joined to `base`, stays inside it. */
export function staysInside(base: string, path: string): boolean {
  const joined = posix.join(base, path);
  const rel = posix.relative(base, joined);
  return rel === '' || (!rel.startsWith('../') && rel !== '..' && !isAbsolute(rel));
}

/** What the bundle's host paths are: the only host facts the checks need (tests give a fake). */
export interface BundleProbe {
  /** What `hostPath` is, following symlinks (as mount(2) and chroot would). */
  kind(hostPath: string): 'dir' | 'file' | 'other' | 'missing';
  /**
   * Whether a namespace file (/proc/PID/ns/net, /run/netns/X) is the runtime's own, i.e. the
   * host's: joining it is no isolation (runc compares them too). Absent: not checked.
   */
  isHostNamespace?(path: string, type: string): boolean;
}
