/**
 * Resolve a container path (e.g. "/etc/hosts") to a host path under the container's
 * root directory, following symlinks the way the kernel would if `root` were "/":
 * an absolute symlink restarts at root, ".." never climbs above root. This is what
 * openat2(RESOLVE_IN_ROOT) does in the kernel; it is safe here because it runs in the
 * container's init before the container's command starts, so nothing inside the
 * rootfs can change the tree while we resolve it.
 *
 * Pure: the filesystem is reached only through the injected `readlink`, so the
 * resolution rules are unit-tested without root.
 */
import { posix } from 'node:path';

export interface LinkReader {
  /** The symlink's target if `hostPath` is a symlink, null if it is anything else or missing. */
  readlink(hostPath: string): string | null;
}

const MAX_SYMLINKS = 40; // the kernel's limit (ELOOP)

export class SymlinkLoopError extends Error {
  readonly code = 'ELOOP';
}

export function secureJoin(root: string, containerPath: string, fs: LinkReader): string {
  // Components still to walk, in order; resolved components so far.
  const pending = splitPath(containerPath);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.' || part === '') continue;
    if (part === '..') {
      resolved.pop(); // at the root, ".." stays at the root
      continue;
    }
    const candidate = posix.join(root, ...resolved, part);
    const target = fs.readlink(candidate);
    if (target === null) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new SymlinkLoopError(`too many levels of symbolic links resolving ${containerPath}`);
    // Absolute targets restart at the container's root; relative ones continue from the link's directory.
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...splitPath(target));
  }
  return posix.join(root, ...resolved);
}

function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}
