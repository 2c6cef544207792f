/**
 * Executes entry plans inside one tree. Every name is reached the same way: the parent
 * directory is opened through InRootResolver (never leaving the tree), then a single
 * *at() call acts on the final component without following it (O_NOFOLLOW|O_EXCL,
 * AT_SYMLINK_NOFOLLOW, mknodat/symlinkat/linkat, which never follow). An existing name is
 * unlinked before it is replaced, so a symlink or hard link planted by an earlier entry
 * is replaced, never written through.
 *
 * Parent directory fds are cached (most entries share their parent with the previous
 * one). A cached fd stays correct as long as no component of its path is replaced, and
 * replacing anything goes through `removeExisting`, which drops the whole cache.
 */
import {
  AT,
  close,
  fchmod,
  fchmodat,
  fchown,
  fchownat,
  fsetxattr,
  futimens,
  linkat,
  mkdirat,
  mknodat,
  O,
  openat,
  S_IF,
  setxattrAt,
  symlinkat,
  unlinkat,
  UTIME_NOW,
  utimensatNoFollow,
  type Timespec,
} from '../sys/fs.js';
import { SysError } from '../sys/sys-error.js';
import { joinEntryPath, type EntryPath } from './entry-path.js';
import type { EntryPlan } from './entry-plan.js';
import { InRootResolver } from './resolve-in-root.js';

const NOW: Timespec = { sec: 0, nsec: UTIME_NOW };
const MAX_CACHED_DIRS = 128;

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof SysError && codes.includes(err.code);
}

export class TreeWriter {
  private readonly resolver: InRootResolver;
  private readonly dirFds = new Map<string, number>();
  /** Directory times are set last: creating their contents would change them again. */
  private readonly dirTimes = new Map<string, { path: EntryPath; atime: Timespec; mtime: Timespec }>();

  /** rootFd: the tree's root, opened O_RDONLY|O_DIRECTORY (it gets the "./" entry's metadata). */
  constructor(private readonly rootFd: number) {
    this.resolver = new InRootResolver(rootFd);
  }

  /** Create a regular file and return its fd for the data; finishFile applies metadata. */
  createFile(plan: EntryPlan): number {
    const [parent, name] = this.parentOf(plan.path);
    const flags = O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW;
    this.dirTimes.delete(joinEntryPath(plan.path));
    try {
      return openat(parent, name, flags, 0o600);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      this.removeExisting(parent, name, plan.path);
      return openat(this.parentOf(plan.path)[0], name, flags, 0o600);
    }
  }

  /** Owner before mode (chown clears setuid/setgid), xattrs after both (chown drops capabilities). */
  finishFile(fd: number, plan: EntryPlan): void {
    try {
      fchown(fd, plan.uid, plan.gid);
      fchmod(fd, plan.mode);
      for (const [attr, value] of plan.xattrs) fsetxattr(fd, attr, value);
      futimens(fd, plan.atime ?? NOW, plan.mtime);
    } finally {
      close(fd);
    }
  }

  /** Everything but regular files. */
  create(plan: EntryPlan): void {
    switch (plan.kind) {
      case 'directory':
        return this.directory(plan);
      case 'symlink':
        return this.special(plan, (parent, name) => symlinkat(plan.symlinkTarget!, parent, name));
      case 'hardlink':
        return this.hardlink(plan);
      case 'char-device':
      case 'block-device':
      case 'fifo': {
        const type = plan.kind === 'fifo' ? S_IF.FIFO : plan.kind === 'char-device' ? S_IF.CHR : S_IF.BLK;
        return this.special(plan, (parent, name) => mknodat(parent, name, type | 0o600, plan.major, plan.minor));
      }
      case 'file':
        throw new Error('regular files go through createFile');
    }
  }

  /** Set the directory times recorded on the way, then release every fd. */
  finish(): void {
    this.dropDirCache();
    for (const { path, atime, mtime } of this.dirTimes.values()) {
      if (path.length === 0) {
        futimens(this.rootFd, atime, mtime);
        continue;
      }
      let parent: number;
      try {
        parent = this.resolver.openDir(path.slice(0, -1));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue; // removed by a later entry
        throw err;
      }
      try {
        utimensatNoFollow(parent, path[path.length - 1]!, atime, mtime);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      } finally {
        close(parent);
      }
    }
    this.dirTimes.clear();
  }

  /** Release cached fds without finishing (on failure). */
  abandon(): void {
    this.dropDirCache();
  }

  private directory(plan: EntryPlan): void {
    const key = joinEntryPath(plan.path);
    if (plan.path.length === 0) {
      this.applyDirMetadata(this.rootFd, plan);
    } else {
      const [parent, name] = this.parentOf(plan.path);
      const fd = this.makeDir(parent, name, plan.path);
      // Cached parent fds are O_PATH; this one can also take fchown/fchmod/fsetxattr.
      const old = this.dirFds.get(key);
      if (old !== undefined) {
        close(old);
        this.dirFds.delete(key);
      }
      this.cacheDir(key, fd);
      this.applyDirMetadata(fd, plan);
    }
    this.dirTimes.delete(key); // re-inserted last: a directory repeated later wins
    this.dirTimes.set(key, { path: plan.path, atime: plan.atime ?? NOW, mtime: plan.mtime });
  }

  /** mkdir, or keep a directory that is already there; anything else in the way is replaced. */
  private makeDir(parent: number, name: string, path: EntryPath): number {
    try {
      mkdirat(parent, name, 0o700);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    try {
      return openat(parent, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW);
    } catch (err) {
      if (!isErrno(err, 'ENOTDIR', 'ELOOP')) throw err;
      this.removeExisting(parent, name, path);
      const newParent = this.parentOf(path)[0];
      mkdirat(newParent, name, 0o700);
      return openat(newParent, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW);
    }
  }

  private applyDirMetadata(fd: number, plan: EntryPlan): void {
    fchown(fd, plan.uid, plan.gid);
    fchmod(fd, plan.mode);
    for (const [attr, value] of plan.xattrs) fsetxattr(fd, attr, value);
  }

  /** Symlinks, devices, fifos: created by one call that never follows the final name. */
  private special(plan: EntryPlan, make: (parent: number, name: string) => void): void {
    let [parent, name] = this.parentOf(plan.path);
    try {
      make(parent, name);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      this.removeExisting(parent, name, plan.path);
      parent = this.parentOf(plan.path)[0];
      make(parent, name);
    }
    this.dirTimes.delete(joinEntryPath(plan.path));
    fchownat(parent, name, plan.uid, plan.gid, AT.SYMLINK_NOFOLLOW);
    // Linux cannot chmod a symlink (its mode is always 0777); the node was just created
    // by us, so fchmodat on the name reaches it and nothing else.
    if (plan.kind !== 'symlink') fchmodat(parent, name, plan.mode);
    for (const [attr, value] of plan.xattrs) setxattrAt(parent, name, attr, value);
    utimensatNoFollow(parent, name, plan.atime ?? NOW, plan.mtime);
  }

  /**
   * A hard link's target must be a member already extracted, reached through real
   * directories only: no symlink on the way (not even one inside the tree), so a link can
   * never pick up a file the archive did not put at that name.
   */
  private hardlink(plan: EntryPlan): void {
    const target = plan.linkTarget!;
    let targetParent: number;
    try {
      targetParent = this.resolver.openDir(target.slice(0, -1), { noSymlinks: true });
    } catch (err) {
      if (isErrno(err, 'ELOOP')) throw new RefusedEntryError(`hard link target ${JSON.stringify(joinEntryPath(target))} goes through a symlink`);
      throw err;
    }
    try {
      const targetName = target[target.length - 1]!;
      let [parent, name] = this.parentOf(plan.path);
      try {
        linkat(targetParent, targetName, parent, name);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
        this.removeExisting(parent, name, plan.path);
        parent = this.parentOf(plan.path)[0];
        linkat(targetParent, targetName, parent, name);
      }
      this.dirTimes.delete(joinEntryPath(plan.path));
    } finally {
      close(targetParent);
    }
  }

  /**
   * Unlink whatever is at `name` (an empty directory too); never recurse into a tree. Then
   * drop the cached directory fds: one of them may have been reached through this name.
   * `parent` may be one of them, so the caller fetches its parent again afterwards.
   */
  private removeExisting(parent: number, name: string, path: EntryPath): void {
    try {
      unlinkat(parent, name, 0);
    } catch (err) {
      if (!isErrno(err, 'EISDIR')) throw err;
      try {
        unlinkat(parent, name, AT.REMOVEDIR);
      } catch (err2) {
        if (isErrno(err2, 'ENOTEMPTY', 'EEXIST')) {
          throw new RefusedEntryError(`cannot replace the non-empty directory ${JSON.stringify(joinEntryPath(path))} with another type`);
        }
        throw err2;
      }
    } finally {
      this.dropDirCache();
    }
  }

  /** The fd of the entry's parent directory (created, mode 0755, if missing) and the final name. */
  private parentOf(path: EntryPath): [number, string] {
    return [this.dirFd(path.slice(0, -1)), path[path.length - 1]!];
  }

  private dirFd(path: EntryPath): number {
    if (path.length === 0) return this.rootFd;
    const key = path.join('/');
    const cached = this.dirFds.get(key);
    if (cached !== undefined) return cached;
    let fd: number;
    try {
      fd = this.resolver.openDir(path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      // Archives may omit directory entries; create the missing parents as tar does.
      const parent = this.dirFd(path.slice(0, -1));
      try {
        mkdirat(parent, path[path.length - 1]!, 0o755);
      } catch (err2) {
        if (!isErrno(err2, 'EEXIST')) throw err2;
      }
      fd = this.resolver.openDir(path);
    }
    this.cacheDir(key, fd);
    return fd;
  }

  private cacheDir(key: string, fd: number): void {
    if (this.dirFds.size >= MAX_CACHED_DIRS) this.dropDirCache();
    this.dirFds.set(key, fd);
  }

  private dropDirCache(): void {
    for (const fd of this.dirFds.values()) close(fd);
    this.dirFds.clear();
  }
}

/** An entry the extractor refuses (a link through a symlink, replacing a full directory). */
export class RefusedEntryError extends Error {}
