/**
 * Executes entry plans inside one tree. Every name is reached the same way: the parent
 * directory is opened through InRoot (fs/in-root) (never leaving the tree), then a single
 * *at() call acts on the final component without following it (O_NOFOLLOW|O_EXCL,
 * AT_SYMLINK_NOFOLLOW, mknodat/symlinkat/linkat, which never follow). An existing name is
 * unlinked before it is replaced, so a symlink or hard link planted by an earlier entry
 * is replaced, never written through.
 *
 * Parent directory fds are cached (dir-cache.ts). A cached fd stays correct as long as no
 * component of its path is replaced, and replacing anything goes through
 * `removeExisting`, which drops the whole cache.
 *
 * Owner and mode are set only when the kernel did not already give the node the planned
 * ones: a node is created with the planned mode when the umask leaves it whole and it
 * has no setuid/setgid/sticky bit (those are set after the owner, which clears them), and
 * it belongs to its creator unless its directory is setgid. Most rootfs entries are
 * root's with a plain mode, so most files cost no fchown/fchmod, as they would change
 * nothing.
 */
import {
  AT,
  bytePath,
  close,
  fchmod,
  fchmodat,
  fchown,
  fchownat,
  fsetxattr,
  futimens,
  linkat,
  linkTmpfile,
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
  type PathArg,
  type Timespec,
} from '../sys/fs.js';
import { SysError } from '../sys/sys-error.js';
import { DirCache, setgidOf, type CachedDir } from './dir-cache.js';
import type { TmpfilePool } from './tmpfile-pool.js';
import { displayPath, joinEntryPath, type EntryPath } from './entry-path.js';
import type { EntryPlan } from './entry-plan.js';
import { InRoot } from '../fs/in-root/resolver.js';
import { inRootBytesSys } from '../sys/in-root.js';

const NOW: Timespec = { sec: 0, nsec: UTIME_NOW };

/** A directory's times, set once nothing more is created in it. */
interface PendingTimes {
  path: EntryPath;
  atime: Timespec;
  mtime: Timespec;
}

/** Memory the pending directory times may hold before the finished ones are applied early. */
const MAX_PENDING_DIR_BYTES = 32 * 1024 * 1024;
/** A pending entry's cost besides its name (objects, map slot), roughly. */
const PENDING_OVERHEAD = 300;

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof SysError && codes.includes(err.code);
}

/** Who creates the nodes: what they get from the kernel before any chown or chmod. */
export interface Creator {
  /** The owner of new nodes (the fsuid). */
  uid: number;
  /** Their group, unless their directory is setgid (the fsgid). */
  gid: number;
  /** Bits open() and mkdir() clear; null when unknown (then every mode is set explicitly). */
  umask: number | null;
}

/** A regular file being written. */
export interface OpenFile {
  fd: number;
  /** Created with the planned owner and mode already: no fchown/fchmod needed. */
  asPlanned: boolean;
}

export class TreeWriter {
  private readonly resolver: InRoot;
  private readonly dirs: DirCache;
  /**
   * Directories made because a member needed a parent the archive never listed ("a/b"),
   * by member path: an image layer's such directories take the metadata of the same
   * directory in the layers below (layer-store.ts), or /tmp 1777 would become 0755.
   */
  readonly implicitDirs = new Set<string>();
  /** Directory times are set last: creating their contents would change them again. */
  private readonly dirTimes = new Map<string, PendingTimes>();
  /** About how much memory dirTimes holds (key bytes plus a per-entry overhead). */
  private pendingDirBytes = 0;

  /** rootFd: the tree's root, opened O_RDONLY|O_DIRECTORY (it gets the "./" entry's metadata). */
  constructor(
    private readonly rootFd: number,
    private readonly creator: Creator,
    /** Unnamed files made ahead on other threads (tmpfile-pool.ts); regular files take one when ready. */
    private readonly tmpfiles: TmpfilePool | null = null,
  ) {
    this.resolver = new InRoot(rootFd, inRootBytesSys);
    this.dirs = new DirCache(rootFd);
  }

  /** Create a regular file for its data; finishFile applies the rest of the metadata. */
  createFile(plan: EntryPlan): OpenFile {
    const [parent, name] = this.parentOf(plan.path);
    const flags = O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW;
    this.dirTimes.delete(joinEntryPath(plan.path));
    const made = this.tmpfiles?.take() ?? null;
    if (made !== null) {
      const named = this.nameTmpfile(made, parent, name, plan);
      if (named !== null) return named;
    }
    try {
      if (this.tmpfiles?.deciding !== true) return this.openNew(parent, name, flags, plan);
      const before = process.hrtime.bigint();
      const file = this.openNew(parent, name, flags, plan);
      this.tmpfiles.noteDirectCreate(process.hrtime.bigint() - before);
      return file;
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      this.removeExisting(parent, name, plan.path);
      return this.openNew(this.parentOf(plan.path)[0], name, flags, plan);
    }
  }

  /**
   * Name an unnamed file where the member goes: linkat on the in-root parent fd, which fails
   * on an existing name (replaced as for O_EXCL) and follows nothing. Owner and mode are set
   * by finishFile (the file was made 0600 by this process). Null, the pool turned off, when
   * the link is refused for another reason (linkat AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH):
   * the caller creates the file the usual way.
   */
  private nameTmpfile(fd: number, parent: CachedDir, name: PathArg, plan: EntryPlan): OpenFile | null {
    try {
      try {
        linkTmpfile(fd, parent.fd, name);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
        this.removeExisting(parent, name, plan.path);
        linkTmpfile(fd, this.parentOf(plan.path)[0].fd, name);
      }
      return { fd, asPlanned: false };
    } catch (err) {
      close(fd);
      if (err instanceof RefusedEntryError || !isErrno(err, 'EPERM', 'ENOENT', 'EOPNOTSUPP', 'EXDEV', 'EINVAL')) throw err;
      this.tmpfiles!.disable();
      return null;
    }
  }

  private openNew(parent: CachedDir, name: PathArg, flags: number, plan: EntryPlan): OpenFile {
    const asPlanned = this.createdAsPlanned(plan, parent);
    return { fd: openat(parent.fd, name, flags, asPlanned ? plan.mode : 0o600), asPlanned };
  }

  /** Owner before mode (chown clears setuid/setgid), xattrs after both (chown drops capabilities). */
  finishFile(file: OpenFile, plan: EntryPlan): void {
    const fd = file.fd;
    try {
      if (!file.asPlanned) {
        fchown(fd, plan.uid, plan.gid);
        fchmod(fd, plan.mode);
      }
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
        return this.special(plan, (parent, name) => symlinkat(bytePath(plan.symlinkTarget!), parent, name));
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

  /**
   * An image layer's whiteout of `path` (layer-entries.ts): a 0:0 character device, which
   * is what overlayfs reads as "deleted" in a lower layer. Skipped when this layer already
   * has something at `path` (a same-layer entry is never hidden). Its directory is reached
   * through real directories only: a whiteout may not act through a symlink.
   */
  whiteout(path: EntryPath): void {
    const parent = this.realDir(path.slice(0, -1), 'whiteout');
    try {
      const name = bytePath(path[path.length - 1]!);
      if (this.exists(parent, name)) return;
      mknodat(parent, name, S_IF.CHR, 0, 0);
    } finally {
      close(parent);
    }
  }

  /** An opaque directory (layer-entries.ts): trusted.overlay.opaque=y on the directory at `path`, made if missing. */
  opaque(path: EntryPath): void {
    const name = bytePath(path[path.length - 1]!);
    const parent = this.realDir(path.slice(0, -1), 'opaque whiteout');
    try {
      if (!this.exists(parent, name)) {
        mkdirat(parent, name, 0o755);
        this.implicitDirs.add(path.join('/'));
      }
      close(openat(parent, name, O.PATH | O.NOFOLLOW | O.DIRECTORY)); // ENOTDIR/ELOOP: not a real directory
      setxattrAt(parent, name, 'trusted.overlay.opaque', Buffer.from('y'));
    } catch (err) {
      if (isErrno(err, 'ENOTDIR', 'ELOOP')) throw new RefusedEntryError(`opaque whiteout of ${JSON.stringify(joinEntryPath(path))}, which goes through a symlink or is not a directory`);
      throw err;
    } finally {
      close(parent);
    }
  }

  /** An O_PATH fd of the directory at `path`, created if missing, refused if reached through a symlink. */
  private realDir(path: EntryPath, what: string): number {
    const open = (): number => {
      try {
        return this.resolver.openDir(path, { noSymlinks: true });
      } catch (err) {
        if (isErrno(err, 'ELOOP', 'ENOTDIR')) throw new RefusedEntryError(`${what} in ${JSON.stringify(joinEntryPath(path))}, which goes through a symlink`);
        throw err;
      }
    };
    try {
      return open();
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    try {
      this.dirFd(path, true); // missing directories are made as for any member
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err; // a dangling symlink on the way: open() says so
    }
    return open();
  }

  private exists(parent: number, name: PathArg): boolean {
    try {
      close(openat(parent, name, O.PATH | O.NOFOLLOW));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /**
   * Set the directory times recorded on the way, then release every fd. Directories are
   * looked up, never created: one removed by a later entry is skipped.
   */
  finish(): void {
    for (const times of this.dirTimes.values()) this.applyDirTime(times);
    this.dirTimes.clear();
    this.pendingDirBytes = 0;
    this.dirs.clear();
  }

  private applyDirTime({ path, atime, mtime }: PendingTimes): void {
    if (path.length === 0) {
      futimens(this.rootFd, atime, mtime);
      return;
    }
    let parent: CachedDir;
    try {
      parent = this.dirFd(path.slice(0, -1), false);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    try {
      utimensatNoFollow(parent.fd, bytePath(path[path.length - 1]!), atime, mtime);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }

  /**
   * Too many directory times pending (a hostile archive of a million directories with
   * long names would hold gigabytes here): apply now those of every directory that is not
   * an ancestor of the current entry, as GNU tar does after each entry. In an archive in
   * tree order nothing is added to them later; only the ancestors (at most PATH_MAX/2)
   * stay pending.
   */
  private flushDirTimes(current: string): void {
    let left = 0;
    for (const [key, times] of this.dirTimes) {
      if (key === '.' || key === current || current.startsWith(`${key}/`)) {
        left += key.length + PENDING_OVERHEAD;
        continue;
      }
      this.applyDirTime(times);
      this.dirTimes.delete(key);
    }
    this.pendingDirBytes = left;
  }

  /** Release cached fds without finishing (on failure). */
  abandon(): void {
    this.dirs.clear();
  }

  /** True when a node created now in `parent` gets the planned owner from the kernel. */
  private ownedAsPlanned(plan: EntryPlan, parent: CachedDir): boolean {
    return plan.uid === this.creator.uid && plan.gid === this.creator.gid && !this.dirs.isSetgid(parent);
  }

  /** True when a node created now in `parent` with plan.mode gets the planned owner and mode. */
  private createdAsPlanned(plan: EntryPlan, parent: CachedDir): boolean {
    const umask = this.creator.umask;
    return umask !== null && (plan.mode & ~0o777) === 0 && (plan.mode & umask) === 0 && this.ownedAsPlanned(plan, parent);
  }

  private directory(plan: EntryPlan): void {
    const key = joinEntryPath(plan.path);
    this.implicitDirs.delete(plan.path.join('/'));
    if (plan.path.length === 0) {
      this.applyDirMetadata(this.rootFd, plan);
      this.dirs.forgetModes(); // the root may be cached under other names (a symlink to "/")
      this.dirs.root.setgid = setgidOf(plan.mode);
    } else {
      const [parent, name] = this.parentOf(plan.path);
      const asPlanned = plan.xattrs.length === 0 && this.createdAsPlanned(plan, parent);
      const made = this.makeDir(parent, name, plan.path, asPlanned ? plan.mode : 0o700);
      // Cached parent fds are O_PATH; this one can also take fchown/fchmod/fsetxattr.
      const dir = this.dirs.set(key, made.fd, null);
      if (!made.created || !asPlanned) {
        this.applyDirMetadata(made.fd, plan);
        // A directory that was already there may be cached under other names too.
        if (!made.created) this.dirs.forgetModes();
      }
      dir.setgid = setgidOf(plan.mode);
    }
    this.dirTimes.delete(key); // re-inserted last: a directory repeated later wins
    this.dirTimes.set(key, { path: plan.path, atime: plan.atime ?? NOW, mtime: plan.mtime });
    this.pendingDirBytes += key.length * 2 + PENDING_OVERHEAD; // the key, and the path's components
    if (this.pendingDirBytes > MAX_PENDING_DIR_BYTES) this.flushDirTimes(key);
  }

  /** mkdir, or keep a directory that is already there; anything else in the way is replaced. */
  private makeDir(parent: CachedDir, name: PathArg, path: EntryPath, mode: number): { fd: number; created: boolean } {
    let created = true;
    try {
      mkdirat(parent.fd, name, mode);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      created = false;
    }
    try {
      return { fd: openat(parent.fd, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW), created };
    } catch (err) {
      if (!isErrno(err, 'ENOTDIR', 'ELOOP')) throw err;
      this.removeExisting(parent, name, path);
      const newParent = this.parentOf(path)[0];
      mkdirat(newParent.fd, name, mode);
      return { fd: openat(newParent.fd, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW), created: true };
    }
  }

  private applyDirMetadata(fd: number, plan: EntryPlan): void {
    fchown(fd, plan.uid, plan.gid);
    fchmod(fd, plan.mode);
    for (const [attr, value] of plan.xattrs) fsetxattr(fd, attr, value);
  }

  /** Symlinks, devices, fifos: created by one call that never follows the final name. */
  private special(plan: EntryPlan, make: (parent: number, name: PathArg) => void): void {
    let [parent, name] = this.parentOf(plan.path);
    try {
      make(parent.fd, name);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      this.removeExisting(parent, name, plan.path);
      parent = this.parentOf(plan.path)[0];
      make(parent.fd, name);
    }
    this.dirTimes.delete(joinEntryPath(plan.path));
    if (!this.ownedAsPlanned(plan, parent)) fchownat(parent.fd, name, plan.uid, plan.gid, AT.SYMLINK_NOFOLLOW);
    // Linux cannot chmod a symlink (its mode is always 0777); the node was just created
    // by us, so fchmodat on the name reaches it and nothing else.
    if (plan.kind !== 'symlink') fchmodat(parent.fd, name, plan.mode);
    for (const [attr, value] of plan.xattrs) setxattrAt(parent.fd, name, attr, value);
    utimensatNoFollow(parent.fd, name, plan.atime ?? NOW, plan.mtime);
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
      if (isErrno(err, 'ELOOP')) throw new RefusedEntryError(`hard link target ${JSON.stringify(displayPath(joinEntryPath(target)))} goes through a symlink`);
      throw err;
    }
    try {
      const targetName = bytePath(target[target.length - 1]!);
      let [parent, name] = this.parentOf(plan.path);
      try {
        linkat(targetParent, targetName, parent.fd, name);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
        this.removeExisting(parent, name, plan.path);
        parent = this.parentOf(plan.path)[0];
        linkat(targetParent, targetName, parent.fd, name);
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
  private removeExisting(parent: CachedDir, name: PathArg, path: EntryPath): void {
    try {
      unlinkat(parent.fd, name, 0);
    } catch (err) {
      if (!isErrno(err, 'EISDIR')) throw err;
      try {
        unlinkat(parent.fd, name, AT.REMOVEDIR);
      } catch (err2) {
        if (isErrno(err2, 'ENOTEMPTY', 'EEXIST')) {
          throw new RefusedEntryError(`cannot replace the non-empty directory ${JSON.stringify(displayPath(joinEntryPath(path)))} with another type`);
        }
        throw err2;
      }
    } finally {
      this.dirs.clear();
    }
  }

  /** The entry's parent directory (created, mode 0755, if missing) and the final name, as bytes for the kernel. */
  private parentOf(path: EntryPath): [CachedDir, PathArg] {
    return [this.dirFd(path.slice(0, -1), true), bytePath(path[path.length - 1]!)];
  }

  /** The directory at `path`, cached; missing ones are created (as tar does) when `create`, else ENOENT. */
  private dirFd(path: EntryPath, create: boolean): CachedDir {
    if (path.length === 0) return this.dirs.root;
    const key = path.join('/');
    const cached = this.dirs.get(key);
    if (cached !== undefined) return cached;
    let fd: number;
    try {
      fd = this.resolver.openDir(path);
    } catch (err) {
      if (!create || !isErrno(err, 'ENOENT')) throw err;
      // Archives may omit directory entries; create the missing parents as tar does.
      const parent = this.dirFd(path.slice(0, -1), true);
      try {
        mkdirat(parent.fd, bytePath(path[path.length - 1]!), 0o755);
        this.implicitDirs.add(key);
      } catch (err2) {
        if (!isErrno(err2, 'EEXIST')) throw err2;
      }
      fd = this.resolver.openDir(path);
    }
    return this.dirs.set(key, fd, null);
  }
}

/** An entry the extractor refuses (a link through a symlink, replacing a full directory). */
export class RefusedEntryError extends Error {}
