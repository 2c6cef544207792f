/**
 * The userspace RESOLVE_IN_ROOT: what openat2 does in the kernel, for kernels without it
 * (before 5.6) and for --no-openat2. Symlinks met on the way resolve as if the root were
 * "/" (absolute targets restart at the root, ".." stops at it).
 *
 * Every step opens ONE name relative to a directory fd we hold, with O_NOFOLLOW: the kernel
 * never follows a link for us, and nothing is a path string walked twice. A symlink is read
 * with readlinkat and its target pushed back onto the components still to walk. ".." is never
 * asked of the kernel (it could lead out of the root if a directory was moved away): we go
 * back to the root and walk again through the components already known to be directories.
 *
 * Pure apart from the injected WalkSys, so the rules are unit-tested with a fake tree.
 */
import { SysError } from '../../sys/sys-error.js';

export type InRootKind = 'dir' | 'file' | 'symlink' | 'other';

export interface WalkSys {
  /** A new O_PATH|O_DIRECTORY fd of the root. */
  openRoot(): number;
  /**
   * openat(dirFd, name, O_PATH|O_NOFOLLOW, plus O_DIRECTORY when `dir`). With `dir` a
   * symlink fails with ELOOP or ENOTDIR; without, it opens as the link itself.
   */
  openNoFollow(dirFd: number, name: string, dir: boolean): number;
  /** readlinkat(dirFd, name): the link's target, or null when name is not a symlink. */
  readlinkAt(dirFd: number, name: string): string | null;
  kind(fd: number): InRootKind;
  close(fd: number): void;
  /** A path in the names' encoding, as error messages show it. */
  show(path: string): string;
}

export interface WalkOptions {
  /** Refuse any symlink on the way (ELOOP). */
  noSymlinks?: boolean;
  /** The result must be a directory (every component is opened O_DIRECTORY). */
  dirOnly?: boolean;
}

export interface Walked {
  fd: number;
  /** The real components from the root to `fd`: no symlink, no "..". */
  resolved: string[];
}

const ELOOP = 40;
const ENOTDIR = 20;
const ENOENT = 2;
const MAX_SYMLINKS = 40; // the kernel's limit

const codeOf = (err: unknown) => (err as { code?: string } | null)?.code;

/** An fd (O_PATH) of `path` inside the root; the caller closes it. */
export function walkInRoot(sys: WalkSys, path: readonly string[], opts: WalkOptions = {}): Walked {
  const shown = sys.show(path.join('/')) || '.';
  const pending = [...path];
  const resolved: string[] = [];
  let links = 0;
  let fd = sys.openRoot();
  const follow = (target: string) => {
    if (opts.noSymlinks || ++links > MAX_SYMLINKS) throw new SysError('openat', ELOOP, shown);
    if (target.startsWith('/')) {
      resolved.length = 0;
      sys.close(fd);
      fd = -1;
      fd = sys.openRoot();
    }
    pending.unshift(...target.split('/'));
  };
  try {
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (resolved.length === 0) continue; // ".." at the root stays at the root
        resolved.pop();
        sys.close(fd);
        fd = -1;
        fd = reopen(sys, resolved);
        continue;
      }
      // Only the very last component may be something else than a directory.
      const dir = opts.dirOnly || pending.some((p) => p !== '' && p !== '.');
      let next: number;
      try {
        next = sys.openNoFollow(fd, part, dir);
      } catch (err) {
        if (!dir || (codeOf(err) !== 'ENOTDIR' && codeOf(err) !== 'ELOOP')) throw err;
        const target = sys.readlinkAt(fd, part);
        if (target === null) throw new SysError('openat', ENOTDIR, shown);
        follow(target);
        continue;
      }
      if (!dir && sys.kind(next) === 'symlink') {
        sys.close(next);
        const target = sys.readlinkAt(fd, part);
        if (target === null) throw new SysError('openat', ENOENT, shown); // the link went away meanwhile
        follow(target);
        continue;
      }
      sys.close(fd);
      fd = next;
      resolved.push(part);
    }
    const result = fd;
    fd = -1;
    return { fd: result, resolved };
  } finally {
    if (fd >= 0) sys.close(fd);
  }
}

/** From the root again through components already known to be real directories, still O_NOFOLLOW. */
function reopen(sys: WalkSys, resolved: readonly string[]): number {
  let fd = sys.openRoot();
  for (const part of resolved) {
    try {
      const next = sys.openNoFollow(fd, part, true);
      sys.close(fd);
      fd = next;
    } catch (err) {
      sys.close(fd);
      throw err;
    }
  }
  return fd;
}
