/**
 * THE way to open a path inside a root we do not trust: the extractor's tree (a hostile
 * archive), the container's rootfs and volumes (mount targets, -w, /etc/passwd), and
 * `tsbox cp` into a running container. Symlinks met on the way resolve as if the root were
 * "/", ".." stops at it, and what comes back is an fd, so that the caller acts on exactly
 * what was resolved (mount(2) on /proc/self/fd/N, *at() calls), never on a string the kernel
 * would walk again (CVE-2019-19921, CVE-2023-27561, CVE-2024-45310, CVE-2024-21626 class).
 *
 *  - Kernel path: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), one call.
 *  - Fallback (ENOSYS: kernels before 5.6, or --no-openat2): walk.ts, one O_NOFOLLOW step at
 *    a time. When the root's host path is known (the caller passed it), the result is then
 *    verified through /proc/self/fd: a directory moved out of the root while we held it would
 *    show there. The extractor's private tree has nobody racing it and skips that syscall.
 *
 * Pure apart from the injected InRootSys (linux.ts is the real one); unit-tested with a fake.
 */
import { posix } from 'node:path';
import { TsboxError } from '../../errors.js';
import { walkInRoot, type InRootKind, type WalkSys } from './walk.js';

export type { InRootKind } from './walk.js';

export interface InRootSys extends Omit<WalkSys, 'openRoot'> {
  /** O_PATH|O_DIRECTORY fd of a host directory. */
  openDir(hostPath: string): number;
  /** A new O_PATH|O_DIRECTORY fd of the directory `dirFd` is. */
  reopenDir(dirFd: number): number;
  /**
   * openat2(rootFd, path, O_PATH (|O_DIRECTORY when `dir`), RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS,
   * plus RESOLVE_NO_SYMLINKS when asked). Throws an error with code ENOSYS where openat2 is unavailable.
   */
  openat2InRoot(rootFd: number, path: string, dir: boolean, noSymlinks: boolean): number;
  /** What the fd refers to, as readlink(/proc/self/fd/N) says, in the names' encoding. */
  fdPath(fd: number): string;
  mkdirAt(dirFd: number, name: string, mode: number): void;
  /** Create an empty regular file, never following a symlink (O_CREAT|O_EXCL|O_NOFOLLOW). */
  createFileAt(dirFd: number, name: string, mode: number): void;
}

export interface InRootOptions {
  /** Refuse any symlink on the way (hard link targets; /proc, /sys, /dev: "must be an ordinary directory"). */
  noSymlinks?: boolean;
}

/** The fd path mount(2) accepts for an fd we hold. */
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
  private readonly walkSys: WalkSys;

  /**
   * rootFd: the root, which the caller keeps owning unless it came from InRoot.open.
   * root: its host path, when known: the fallback then verifies its results against it.
   */
  constructor(
    private readonly rootFd: number,
    private readonly sys: InRootSys,
    readonly root: string | null = null,
    private readonly ownsRootFd = false,
  ) {
    this.walkSys = { ...sys, openRoot: () => sys.reopenDir(rootFd) };
  }

  static open(root: string, sys: InRootSys): InRoot {
    return new InRoot(sys.openDir(root), sys, root, true);
  }

  close(): void {
    if (this.ownsRootFd) this.sys.close(this.rootFd);
  }

  /** Which resolver answered: the kernel's, or the userspace fallback. */
  get resolver(): 'openat2' | 'userspace' {
    return this.useOpenat2 ? 'openat2' : 'userspace';
  }

  /**
   * An O_PATH fd of the directory at `components` (names as they come, e.g. an archive's
   * bytes); errors are the raw SysErrors (ENOENT, ENOTDIR, ELOOP), for callers that decide.
   */
  openDir(components: readonly string[], opts: InRootOptions = {}): number {
    return this.resolve(components, true, opts.noSymlinks ?? false);
  }

  /** The same for any node, a symlink at the end followed (inside the root) like the others. */
  openNode(components: readonly string[], opts: InRootOptions = {}): number {
    return this.resolve(components, false, opts.noSymlinks ?? false);
  }

  /** An O_PATH fd of an existing container path; throws ENOENT-coded errors when it is missing. */
  open(containerPath: string, opts: InRootOptions = {}): number {
    const path = posix.normalize(`/${containerPath}`);
    try {
      return this.resolve(path.split('/'), false, opts.noSymlinks ?? false);
    } catch (err) {
      throw this.explain(err, path);
    }
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

  private resolve(components: readonly string[], dir: boolean, noSymlinks: boolean): number {
    // EAGAIN: a rename anywhere on the system raced the kernel's check that ".." stayed in
    // the root; it asks to be called again. A few tries, then the error.
    for (let attempt = 1; this.useOpenat2; attempt++) {
      try {
        return this.sys.openat2InRoot(this.rootFd, components.join('/') || '.', dir, noSymlinks);
      } catch (err) {
        if (errCode(err) === 'EAGAIN' && attempt < OPENAT2_TRIES) continue;
        if (errCode(err) !== 'ENOSYS') throw err;
        this.useOpenat2 = false;
      }
    }
    const { fd, resolved } = walkInRoot(this.walkSys, components, { noSymlinks, dirOnly: dir });
    if (this.root !== null) this.verify(fd, resolved);
    return fd;
  }

  /** The fd must still be the very path the walk went through (nothing moved in between). */
  private verify(fd: number, resolved: readonly string[]): void {
    const expected = posix.join(this.root!, ...resolved);
    const actual = this.sys.fdPath(fd);
    if (actual !== expected) {
      this.sys.close(fd);
      throw new TsboxError(`/${resolved.join('/')} changed while it was being resolved (now ${actual})`, { hint: 'Something modified the rootfs or a volume during setup.' });
    }
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
