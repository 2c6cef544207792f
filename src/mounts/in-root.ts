/**
 * Opening (and creating) paths inside the container's root as file descriptors, so that a
 * mount lands exactly on what was resolved: mount targets are passed to mount(2) as
 * /proc/self/fd/N, never as a path the kernel would walk again.
 *
 * Why: an image is untrusted. Its proc, dev, etc or a volume target may be a symlink
 * (absolute or full of ".."), and a directory shared with another container may be
 * changed while we resolve it. Resolving a path string and then mounting on the string
 * leaves a window (CVE-2019-19921, CVE-2023-27561, CVE-2024-45310 class); an fd does not.
 *
 *  - Kernel path: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): the kernel resolves
 *    symlinks as if the root were "/", ".." stops at it, /proc magic links are refused.
 *  - Fallback (kernels before 5.6, or --no-openat2): resolve in userspace with
 *    secureJoin, open the result with O_NOFOLLOW and check, through /proc/self/fd, that the
 *    fd is the path we resolved (nothing was swapped in between).
 *
 * Pure apart from the injected InRootSys, so both paths are unit-tested with a fake.
 */
import { posix } from 'node:path';
import { TsboxError } from '../errors.js';
import { secureJoin, type LinkReader } from './secure-join.js';

export type InRootKind = 'dir' | 'file' | 'symlink' | 'other';

export interface InRootSys extends LinkReader {
  /** O_PATH|O_DIRECTORY fd of a host directory. */
  openDir(hostPath: string): number;
  /**
   * openat2(rootFd, path, O_PATH, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, plus RESOLVE_NO_SYMLINKS
   * when asked). Throws an error with code ENOSYS where openat2 is unavailable.
   */
  openat2InRoot(rootFd: number, path: string, noSymlinks: boolean): number;
  /** open(hostPath, O_PATH|O_NOFOLLOW). */
  openNoFollow(hostPath: string): number;
  /** What the fd refers to, as readlink(/proc/self/fd/N) says. */
  fdPath(fd: number): string;
  kind(fd: number): InRootKind;
  mkdirAt(dirFd: number, name: string, mode: number): void;
  /** Create an empty regular file, never following a symlink (O_CREAT|O_EXCL|O_NOFOLLOW). */
  createFileAt(dirFd: number, name: string, mode: number): void;
  close(fd: number): void;
}

export interface InRootOptions {
  /** Refuse any symlink on the way (for /proc, /sys, /dev: as runc, "must be an ordinary directory"). */
  noSymlinks?: boolean;
}

/** The fd path mount(2) and chdir(2) accept for an fd we hold. */
export function fdTarget(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

const OPENAT2_TRIES = 8;

function errCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

export class InRoot {
  /** Set after the first ENOSYS: the kernel will not grow openat2 during this run. */
  private useOpenat2 = true;

  constructor(
    readonly root: string,
    private readonly rootFd: number,
    private readonly sys: InRootSys,
  ) {}

  static open(root: string, sys: InRootSys): InRoot {
    return new InRoot(root, sys.openDir(root), sys);
  }

  close(): void {
    this.sys.close(this.rootFd);
  }

  /** Which resolver answered: the kernel's, or the userspace fallback. */
  get resolver(): 'openat2' | 'userspace' {
    return this.useOpenat2 ? 'openat2' : 'userspace';
  }

  /** An O_PATH fd of an existing container path; throws ENOENT-coded errors when it is missing. */
  open(containerPath: string, opts: InRootOptions = {}): number {
    const path = posix.normalize(`/${containerPath}`);
    // EAGAIN: a rename anywhere on the system raced the kernel's check that ".." stayed in
    // the root; it asks to be called again. A few tries, then the error (a start refused).
    for (let attempt = 1; this.useOpenat2; attempt++) {
      try {
        return this.sys.openat2InRoot(this.rootFd, path, opts.noSymlinks ?? false);
      } catch (err) {
        if (errCode(err) === 'EAGAIN' && attempt < OPENAT2_TRIES) continue;
        if (errCode(err) !== 'ENOSYS') throw this.explain(err, path);
        this.useOpenat2 = false;
      }
    }
    return this.openUserspace(path, opts);
  }

  /**
   * An O_PATH fd of a container path, creating what is missing (parents as directories,
   * the last one as `kind`). Every creation is relative to a parent fd and never follows
   * a symlink, so nothing can be created outside the root.
   */
  ensure(containerPath: string, kind: 'dir' | 'file', opts: InRootOptions = {}): number {
    const path = posix.normalize(`/${containerPath}`);
    let fd: number;
    try {
      fd = this.open(path, opts);
    } catch (err) {
      if (errCode(err) !== 'ENOENT' || path === '/') throw err;
      const parent = this.ensure(posix.dirname(path), 'dir', opts);
      try {
        const name = posix.basename(path);
        if (kind === 'dir') this.sys.mkdirAt(parent, name, 0o755);
        else this.sys.createFileAt(parent, name, 0o644);
      } catch (e) {
        // EEXIST after ENOENT: a dangling symlink sits there. Do not guess where it should lead.
        if (errCode(e) === 'EEXIST') throw new TsboxError(`${path} in the image is a dangling symlink`, { hint: 'Fix the image, or choose another target.' });
        throw e;
      } finally {
        this.sys.close(parent);
      }
      fd = this.open(path, opts);
    }
    const found = this.sys.kind(fd);
    if (found !== kind) {
      this.sys.close(fd);
      const name = (k: InRootKind) => (k === 'dir' ? 'directory' : k === 'other' ? 'special file' : k);
      throw new TsboxError(`${path} is a ${name(found)} in the container, not a ${name(kind)}`, { hint: 'Choose a path that matches the source type.' });
    }
    return fd;
  }

  /** Open the parent directory of a path (creating it) and return it with the last name. */
  ensureParent(containerPath: string, opts: InRootOptions = {}): { dirFd: number; name: string } {
    const path = posix.normalize(`/${containerPath}`);
    return { dirFd: this.ensure(posix.dirname(path), 'dir', opts), name: posix.basename(path) };
  }

  private openUserspace(path: string, opts: InRootOptions): number {
    const host = secureJoin(this.root, path, this.sys);
    if (opts.noSymlinks && host !== posix.join(this.root, path)) {
      throw Object.assign(new TsboxError(`${path} in the image is (or passes through) a symlink`, { hint: 'The image must have ordinary directories there.' }), { code: 'ELOOP' });
    }
    const fd = this.sys.openNoFollow(host);
    // Between secureJoin and open, a shared directory may have gained a symlink: make sure
    // the fd is the very path we resolved, and not a symlink itself.
    const actual = this.sys.fdPath(fd);
    const kind = this.sys.kind(fd);
    if (actual !== host || kind === 'symlink') {
      this.sys.close(fd);
      throw new TsboxError(`${path} changed while it was being resolved (now ${actual})`, { hint: 'Something modified the rootfs or a volume during setup.' });
    }
    return fd;
  }

  private explain(err: unknown, path: string): unknown {
    if (errCode(err) === 'ELOOP' || errCode(err) === 'EXDEV') {
      return Object.assign(new TsboxError(`${path} in the image is (or passes through) a symlink that cannot be followed here`, {
        hint: 'The image must have ordinary directories at /proc, /sys and /dev.',
        cause: err,
      }), { code: errCode(err) });
    }
    return err;
  }
}
