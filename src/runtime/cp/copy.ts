/**
 * Copy one node (and, for a directory, everything under it) from an O_PATH fd to a name
 * in a destination directory fd, like `cp -a`: directories recursively, symlinks as
 * symlinks (never followed), permission bits and times kept, ownership kept only with
 * --archive (otherwise the copy belongs to tsbox's user: root, which is also the
 * container's root, as docker documents). Devices, fifos and sockets are skipped, with a
 * warning.
 *
 * Every step is relative to a directory fd, and every name is opened with O_NOFOLLOW:
 * nothing is resolved by path, so a symlink (or one swapped in during the copy) can never
 * send a read or a write outside the two trees. An existing non-directory at the target
 * name is replaced (unlinked, then created afresh with O_EXCL); an existing directory is
 * merged into; a directory never replaces a file, nor a file a directory.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, writeSync, type BigIntStats } from 'node:fs';
import { UsageError } from '../../errors.js';
import { AT, close, fchmod, fchown, fchownat, futimens, mkdirat, O, openat, readlinkat, symlinkat, unlinkat, utimensatNoFollow, type Timespec } from '../../sys/fs.js';
import { SysError } from '../../sys/sys-error.js';
import { hostMode } from './plan.js';

export interface CopyOptions {
  /** -a: keep the source's uid and gid. */
  archive: boolean;
  /** Copying out of a container: set-uid and set-gid bits are dropped (plan.ts hostMode). */
  toHost: boolean;
  warn(message: string): void;
}

export interface CopyCounts {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  skipped: number;
}

const BUFFER_SIZE = 1 << 20;

export class TreeCopier {
  readonly counts: CopyCounts = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped: 0 };
  private readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);

  constructor(private readonly opts: CopyOptions) {}

  /** Copy the node `src` (an O_PATH fd, not consumed) to `name` in the directory `destDir`. */
  copyNode(src: number, destDir: number, name: string, shown: string): void {
    const st = fstatSync(src, { bigint: true });
    if (st.isDirectory()) return this.copyDir(src, st, destDir, name, shown);
    if (st.isFile()) return this.copyFile(src, st, destDir, name);
    if (st.isSymbolicLink()) return this.copySymlink(src, st, destDir, name);
    this.counts.skipped++;
    this.opts.warn(`skipped ${shown}: devices, fifos and sockets are not copied`);
  }

  /** Copy the entries of the directory `src` into the existing directory `destDir`. */
  copyChildren(src: number, destDir: number, shown: string): void {
    for (const child of readdirSync(`/proc/self/fd/${src}`)) {
      const fd = openat(src, child, O.PATH | O.NOFOLLOW);
      try {
        this.copyNode(fd, destDir, child, `${shown.replace(/\/$/, '')}/${child}`);
      } finally {
        close(fd);
      }
    }
  }

  private copyDir(src: number, st: BigIntStats, destDir: number, name: string, shown: string): void {
    try {
      mkdirat(destDir, name, 0o700);
    } catch (err) {
      if (!(err instanceof SysError) || err.code !== 'EEXIST') throw err;
    }
    let dir: number;
    try {
      dir = openat(destDir, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW);
    } catch (err) {
      if (err instanceof SysError && (err.code === 'ENOTDIR' || err.code === 'ELOOP')) throw new UsageError(`cannot overwrite non-directory ${name} with directory ${shown}`);
      throw err;
    }
    try {
      this.copyChildren(src, dir, shown);
      this.setAttributes(dir, st);
      this.counts.dirs++;
    } finally {
      close(dir);
    }
  }

  private copyFile(src: number, st: BigIntStats, destDir: number, name: string): void {
    // Reopen the O_PATH fd for reading through /proc/self/fd: the very inode we hold, no path walk.
    const input = openSync(`/proc/self/fd/${src}`, 'r');
    try {
      const out = this.create(destDir, name, () => openat(destDir, name, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW, 0o600));
      try {
        for (let pos = 0; ; ) {
          const n = readSync(input, this.buffer, 0, BUFFER_SIZE, pos);
          if (n === 0) break;
          for (let off = 0; off < n; ) off += writeSync(out, this.buffer, off, n - off);
          pos += n;
          this.counts.bytes += n;
        }
        this.setAttributes(out, st);
        this.counts.files++;
      } finally {
        closeSync(out);
      }
    } finally {
      closeSync(input);
    }
  }

  private copySymlink(src: number, st: BigIntStats, destDir: number, name: string): void {
    const target = readlinkat(src, '');
    this.create(destDir, name, () => symlinkat(target, destDir, name));
    if (this.opts.archive) fchownat(destDir, name, Number(st.uid), Number(st.gid), AT.SYMLINK_NOFOLLOW);
    utimensatNoFollow(destDir, name, timespec(st.atimeNs), timespec(st.mtimeNs));
    this.counts.symlinks++;
  }

  /** Create a non-directory; an existing non-directory there is replaced, a directory is not. */
  private create<T>(destDir: number, name: string, make: () => T): T {
    try {
      return make();
    } catch (err) {
      if (!(err instanceof SysError) || err.code !== 'EEXIST') throw err;
    }
    const existing = openat(destDir, name, O.PATH | O.NOFOLLOW);
    const isDir = fstatSync(existing).isDirectory();
    close(existing);
    if (isDir) throw new UsageError(`cannot overwrite directory ${name} with a non-directory`);
    unlinkat(destDir, name);
    return make();
  }

  private setAttributes(fd: number, st: BigIntStats): void {
    // chown first: it clears set-uid/set-gid bits, which chmod then sets (or not) on purpose.
    if (this.opts.archive) fchown(fd, Number(st.uid), Number(st.gid));
    const mode = Number(st.mode) & 0o7777;
    fchmod(fd, this.opts.toHost ? hostMode(mode) : mode);
    futimens(fd, timespec(st.atimeNs), timespec(st.mtimeNs));
  }
}

function timespec(ns: bigint): Timespec {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}
