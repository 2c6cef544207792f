/**
 * Open a directory of the tree by its member path, with every symlink met on the way
 * resolved as if the tree were "/" (absolute targets restart at the tree, ".." stops at
 * it). This is what keeps a hostile archive inside the tree: a symlink planted by an
 * earlier entry ("etc -> /etc", "x -> ../../..") can only lead somewhere inside.
 *
 * The kernel does it in one call with openat2(RESOLVE_IN_ROOT). Kernels without openat2
 * (ENOSYS) get the same rules in userspace: one component at a time with
 * O_NOFOLLOW|O_DIRECTORY, so the kernel never follows a link for us; a symlink is read
 * with readlinkat and its target walked from the tree's root or the current directory.
 * Tests run both (the hidden flag --no-openat2) and compare.
 */
import { bytePath, close, O, openat, openat2, readlinkat, RESOLVE } from '../sys/fs.js';
import { SysError } from '../sys/sys-error.js';
import { displayPath, type EntryPath } from './entry-path.js';

const ENOTDIR = 20;
const ELOOP = 40;
const EINVAL = 22;
const MAX_SYMLINKS = 40; // the kernel's limit

const DIR_FLAGS = O.PATH | O.DIRECTORY;

export interface ResolveOptions {
  /** Refuse any symlink on the way (ELOOP), for hard link targets. */
  noSymlinks?: boolean;
}

export class InRootResolver {
  private useOpenat2 = true;

  constructor(private readonly rootFd: number) {}

  /** An O_PATH fd of the directory at `path` inside the tree; the caller closes it. */
  openDir(path: EntryPath, opts: ResolveOptions = {}): number {
    if (this.useOpenat2) {
      const resolve = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS | (opts.noSymlinks ? RESOLVE.NO_SYMLINKS : 0);
      try {
        return openat2(this.rootFd, path.length ? bytePath(path.join('/')) : '.', DIR_FLAGS, 0, resolve);
      } catch (err) {
        if (!(err instanceof SysError) || err.code !== 'ENOSYS') throw err;
        this.useOpenat2 = false;
      }
    }
    return this.walk(path, opts.noSymlinks ?? false);
  }

  /** The userspace RESOLVE_IN_ROOT. `resolved` only ever holds real directories. */
  private walk(path: EntryPath, noSymlinks: boolean): number {
    const shown = displayPath(path.join('/')) || '.';
    const pending = [...path];
    const resolved: string[] = [];
    let links = 0;
    let fd = openat(this.rootFd, '.', DIR_FLAGS);
    try {
      while (pending.length > 0) {
        const part = pending.shift()!;
        if (part === '' || part === '.') continue;
        if (part === '..') {
          if (resolved.length === 0) continue; // ".." at the root stays at the root
          resolved.pop();
          close(fd);
          fd = -1;
          fd = this.reopen(resolved);
          continue;
        }
        let next: number;
        try {
          next = openat(fd, bytePath(part), DIR_FLAGS | O.NOFOLLOW);
        } catch (err) {
          if (!(err instanceof SysError) || (err.errno !== ENOTDIR && err.errno !== ELOOP)) throw err;
          const target = this.symlinkTarget(fd, part, shown);
          if (noSymlinks || ++links > MAX_SYMLINKS) throw new SysError('openat', ELOOP, shown);
          if (target.startsWith('/')) {
            resolved.length = 0;
            close(fd);
            fd = -1;
            fd = openat(this.rootFd, '.', DIR_FLAGS);
          }
          pending.unshift(...target.split('/'));
          continue;
        }
        close(fd);
        fd = next;
        resolved.push(part);
      }
      const result = fd;
      fd = -1;
      return result;
    } finally {
      if (fd >= 0) close(fd);
    }
  }

  /** The link's target, or ENOTDIR when `name` is neither a directory nor a symlink. */
  private symlinkTarget(dirfd: number, name: string, shown: string): string {
    try {
      return readlinkat(dirfd, bytePath(name)); // a byte string, like member names
    } catch (err) {
      if (err instanceof SysError && err.errno === EINVAL) throw new SysError('openat', ENOTDIR, shown);
      throw err;
    }
  }

  /**
   * Walk again from the root through components already known to be real directories,
   * still one at a time with O_NOFOLLOW so that nothing is followed even if that changed.
   */
  private reopen(resolved: readonly string[]): number {
    let fd = openat(this.rootFd, '.', DIR_FLAGS);
    for (const part of resolved) {
      try {
        const next = openat(fd, bytePath(part), DIR_FLAGS | O.NOFOLLOW);
        close(fd);
        fd = next;
      } catch (err) {
        close(fd);
        throw err;
      }
    }
    return fd;
  }
}
