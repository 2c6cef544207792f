/**
 * Delete a tree: every tree tsbox removes (a container's upper/work dirs, extraction temp
 * dirs, cache entries, gc's leftovers, records) goes through here.
 *
 * A container or an archive chooses what is in the tree, so the walk must hold for any
 * shape: directory chains deeper than PATH_MAX (fs.rm fails there with ENAMETOOLONG, and
 * one such chain used to block every later run), millions of entries, names that are not
 * UTF-8. So it never builds a path: it descends through directory fds (openat with
 * O_NOFOLLOW, one name at a time), reads names as raw bytes with getdents64 and unlinks
 * them relative to their directory's fd. Memory and fds are bounded: at most MAX_DEPTH
 * directories are open at once, each with one read buffer; a directory found deeper than
 * that is first moved up (renameat2, to a fresh name directly under the tree's root) and
 * removed from there later, so any depth is removed with the same bounded stack. It never
 * crosses a mount point (a different st_dev below the root is refused, as rm
 * --one-file-system refuses it): what is mounted there is not the tree's to delete.
 *
 * The walk is a step machine (`TreeRemover.step`): removeTreeSync runs it to the end,
 * removeTree yields to the event loop between steps, so signals and timers still run
 * while a large tree goes.
 */
import { basename, dirname } from 'node:path';
import { AT, close, fstatDevice, getdents64, O, openat, RENAME, renameat2, rewindDir, unlinkat } from '../sys/fs.js';
import { SysError } from '../sys/sys-error.js';

/** The syscalls the walk needs: the real ones (sys/fs.ts) or a test double. */
export interface RemoveSys {
  /** Open a directory below `dirfd` without following a symlink (O_RDONLY|O_DIRECTORY|O_NOFOLLOW). */
  openDir(dirfd: number, name: Buffer | string): number;
  getdents(fd: number, buf: Buffer): number;
  rewind(fd: number): void;
  unlinkat(dirfd: number, name: Buffer | string, flags: number): void;
  /** renameat2 with RENAME_NOREPLACE. */
  renameNoReplace(olddirfd: number, oldname: Buffer | string, newdirfd: number, newname: string): void;
  device(fd: number): number;
  close(fd: number): void;
}

export const AT_REMOVEDIR = 0x200;
/** Directories open at once (each costs an fd and a read buffer). */
export const MAX_DEPTH = 64;
const DIRENT_BUFFER = 32 * 1024;
/** Entries removed between two yields to the event loop (removeTree). */
const STEP_BUDGET = 2000;
/**
 * A directory that reads empty yet cannot be removed (ENOTEMPTY) this many times in a row
 * is being refilled behind our back: give up rather than loop. Passes that found entries
 * (hoisted directories land in the root while it is being read) do not count.
 */
const MAX_EMPTY_PASSES = 8;

const DT_DIR = 4;

/** One record of a getdents64 buffer: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name (NUL-terminated). */
export interface Dirent {
  /** The name with its terminating NUL (ready for a syscall): a view into the buffer. */
  name: Buffer;
  type: number;
  /** Offset of the next record. */
  next: number;
}

/** Parse the record at `pos`. Pure. */
export function parseDirent(buf: Buffer, pos: number): Dirent {
  const reclen = buf.readUInt16LE(pos + 16);
  const type = buf[pos + 18]!;
  const start = pos + 19;
  let end = start;
  while (end < pos + reclen && buf[end] !== 0) end++;
  if (reclen < 20 || end >= pos + reclen) throw new Error('getdents64 returned a malformed record');
  return { name: buf.subarray(start, end + 1), type, next: pos + reclen };
}

function isDots(name: Buffer): boolean {
  return name[0] === 0x2e && (name[1] === 0 || (name[1] === 0x2e && name[2] === 0));
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  return err instanceof SysError && codes.includes(err.code);
}

interface Frame {
  fd: number;
  /** This directory's name in its parent (NUL-terminated copy). */
  name: Buffer | string;
  buf: Buffer;
  pos: number;
  len: number;
  /** Entries were found since the last rewind. */
  sawEntries: boolean;
  /** Consecutive passes that found nothing, yet the directory was not empty. */
  emptyPasses: number;
}

export class MountPointError extends Error {}

/**
 * Removes the tree `name` inside the directory `parentFd` (which the caller keeps open).
 * `step(n)` does about n removals and returns true when the tree is gone.
 */
export class TreeRemover {
  private readonly frames: Frame[] = [];
  private readonly buffers: Buffer[] = [];
  private rootDevice = -1;
  private hoisted = 0;
  private done = false;

  constructor(
    private readonly sys: RemoveSys,
    private readonly parentFd: number,
    private readonly rootName: string | Buffer,
  ) {}

  step(budget: number): boolean {
    if (this.done) return true;
    if (this.frames.length === 0 && !this.start()) return (this.done = true);
    let work = 0;
    while (work < budget) {
      const top = this.frames[this.frames.length - 1]!;
      if (top.pos >= top.len) {
        top.len = this.sys.getdents(top.fd, top.buf);
        top.pos = 0;
        if (top.len > 0) continue;
        if (this.leave()) return (this.done = true);
        work++;
        continue;
      }
      const entry = parseDirent(top.buf, top.pos);
      top.pos = entry.next;
      if (isDots(entry.name)) continue;
      work++;
      top.sawEntries = true;
      this.removeEntry(top, entry);
    }
    return false;
  }

  /** Release every fd (after a failure; a finished walk has none left). */
  close(): void {
    for (const f of this.frames.splice(0)) this.sys.close(f.fd);
  }

  /** Open the root; false when there is nothing to remove (gone, or not a directory and now unlinked). */
  private start(): boolean {
    return this.enter(this.parentFd, this.rootName);
  }

  private push(fd: number, name: Buffer | string): void {
    const depth = this.frames.length;
    const buf = (this.buffers[depth] ??= Buffer.allocUnsafe(DIRENT_BUFFER));
    this.frames.push({ fd, name, buf, pos: 0, len: 0, sawEntries: false, emptyPasses: 0 });
  }

  private removeEntry(dir: Frame, entry: Dirent): void {
    if (entry.type !== DT_DIR) {
      try {
        this.sys.unlinkat(dir.fd, entry.name, 0);
        return;
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return;
        // EISDIR: a directory after all (d_type unknown, or replaced meanwhile).
        if (!isErrno(err, 'EISDIR')) throw err;
      }
    }
    // An empty directory goes without being opened: an inode unlinked while open is only
    // freed at its last close, through the file system's orphan list (on ext4 a journal
    // write each), which made removing many directories ten times slower.
    try {
      this.sys.unlinkat(dir.fd, entry.name, AT_REMOVEDIR);
      return;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      if (isErrno(err, 'ENOTDIR')) {
        this.sys.unlinkat(dir.fd, entry.name, 0); // replaced by a non-directory meanwhile
        return;
      }
      if (!isErrno(err, 'ENOTEMPTY', 'EEXIST')) throw err;
    }
    if (this.frames.length >= MAX_DEPTH) {
      this.hoist(dir, entry.name);
      return;
    }
    this.enter(dir.fd, Buffer.from(entry.name)); // a copy of the name: the buffer is read again
  }

  /** Open a directory below `parentFd` and make it the top of the walk; false if it is gone. */
  private enter(parentFd: number, name: Buffer | string, state?: Pick<Frame, 'emptyPasses'>): boolean {
    let fd: number;
    try {
      fd = this.sys.openDir(parentFd, name);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      if (isErrno(err, 'ENOTDIR', 'ELOOP')) {
        this.sys.unlinkat(parentFd, name, 0); // replaced by a non-directory meanwhile
        return false;
      }
      throw err;
    }
    if (this.rootDevice === -1) this.rootDevice = this.sys.device(fd);
    else if (this.sys.device(fd) !== this.rootDevice) {
      this.sys.close(fd);
      const shown = typeof name === 'string' ? name : name.toString('utf8', 0, name.length - 1);
      throw new MountPointError(`refusing to remove ${JSON.stringify(shown)}: a file system is mounted there`);
    }
    this.push(fd, name);
    if (state) this.frames[this.frames.length - 1]!.emptyPasses = state.emptyPasses;
    return true;
  }

  /** Too deep to open: move the directory up under the tree's root, to be removed from there. */
  private hoist(dir: Frame, name: Buffer): void {
    const root = this.frames[0]!;
    for (;;) {
      const fresh = `.tsbox-rm-${this.hoisted++}`;
      try {
        this.sys.renameNoReplace(dir.fd, name, root.fd, fresh);
        return;
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
    }
  }

  /**
   * The top directory reached its end: close it, then remove it from its parent (closed
   * first, so that the inode is freed at once, see removeEntry). Entries hoisted into it,
   * or missed because the directory changed while it was read, make rmdir fail with
   * ENOTEMPTY: then open it again and read it from the start. True when the root is gone.
   */
  private leave(): boolean {
    const top = this.frames.pop()!;
    this.sys.close(top.fd);
    const parentFd = this.frames.length === 0 ? this.parentFd : this.frames[this.frames.length - 1]!.fd;
    try {
      this.sys.unlinkat(parentFd, top.name, AT_REMOVEDIR);
    } catch (err) {
      if (!isErrno(err, 'ENOTEMPTY', 'EEXIST')) {
        if (!isErrno(err, 'ENOENT')) throw err;
      } else {
        const emptyPasses = top.sawEntries ? 0 : top.emptyPasses + 1;
        if (emptyPasses >= MAX_EMPTY_PASSES) throw err;
        if (this.enter(parentFd, top.name, { emptyPasses })) return false;
      }
    }
    return this.frames.length === 0;
  }
}

/** The real syscalls. */
export const systemRemoveSys: RemoveSys = {
  openDir: (dirfd, name) => openat(dirfd, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW),
  getdents: getdents64,
  rewind: rewindDir,
  unlinkat,
  renameNoReplace: (a, b, c, d) => renameat2(a, b, c, d, RENAME.NOREPLACE),
  device: fstatDevice,
  close,
};

/**
 * Remove `path` and everything below it (nothing if it does not exist), yielding to the
 * event loop every few thousand removals.
 */
export async function removeTree(path: string, sys: RemoveSys = systemRemoveSys): Promise<void> {
  await withRemover(path, sys, async (remover) => {
    while (!remover.step(STEP_BUDGET)) await new Promise<void>((resolve) => setImmediate(resolve));
  });
}

/** The same, without yielding: for the synchronous critical sections of the state store. */
export function removeTreeSync(path: string, sys: RemoveSys = systemRemoveSys): void {
  void withRemover(path, sys, (remover) => {
    while (!remover.step(Number.MAX_SAFE_INTEGER));
  });
}

/** Run `walk` on a remover of `path`, relative to its parent directory's fd; closes every fd after. */
function withRemover<T>(path: string, sys: RemoveSys, walk: (remover: TreeRemover) => T): T | undefined {
  const name = basename(path);
  if (name === '' || name === '.' || name === '..') throw new Error(`removeTree: refusing to remove ${JSON.stringify(path)}`);
  let parent: number;
  try {
    parent = openat(AT.FDCWD, dirname(path), O.RDONLY | O.DIRECTORY);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const remover = new TreeRemover(sys, parent, name);
  const release = () => {
    remover.close();
    close(parent);
  };
  let result: T;
  try {
    result = walk(remover);
  } catch (err) {
    release();
    throw err;
  }
  if (result instanceof Promise) return result.finally(release) as T;
  release();
  return result;
}
