/**
 * The tree writer's open directory fds, by member path (most entries share their parent
 * with the previous one), and what a node created in each gets from the kernel without
 * any chown: the creator's group, or the directory's own when it is setgid.
 *
 * Knowing that lets the writer skip fchown/fchmod when they would change nothing (most
 * entries of a rootfs are root's, with a plain mode): two system calls of the six a file
 * costs. The knowledge comes from fstat or from the metadata the writer itself just set;
 * it is forgotten whenever a directory that may have been reached under another name
 * changes its metadata (forgetModes), and with every fd when anything is replaced (clear).
 */
import { close, fstatOwner } from '../sys/fs.js';

const S_ISGID = 0o2000;
const MAX_CACHED_DIRS = 128;

export interface CachedDir {
  fd: number;
  /** Nodes created here take the directory's group (and new directories its setgid bit); null: not known yet. */
  setgid: boolean | null;
}

export class DirCache {
  private readonly dirs = new Map<string, CachedDir>();
  /** The tree's root: not owned by the cache (never closed here). */
  readonly root: CachedDir;

  constructor(rootFd: number) {
    this.root = { fd: rootFd, setgid: null };
  }

  get(key: string): CachedDir | undefined {
    return this.dirs.get(key);
  }

  /** Cache `fd` (the cache closes it from now on), replacing any fd cached under `key`. */
  set(key: string, fd: number, setgid: boolean | null): CachedDir {
    const old = this.dirs.get(key);
    if (old !== undefined) {
      close(old.fd);
      this.dirs.delete(key);
    }
    if (this.dirs.size >= MAX_CACHED_DIRS) this.clear();
    const dir = { fd, setgid };
    this.dirs.set(key, dir);
    return dir;
  }

  /** Whether nodes created in `dir` inherit its group (fstat on first use). */
  isSetgid(dir: CachedDir): boolean {
    dir.setgid ??= (fstatOwner(dir.fd).mode & S_ISGID) !== 0;
    return dir.setgid;
  }

  /** A directory's mode or group changed and it may be cached under other names too. */
  forgetModes(): void {
    this.root.setgid = null;
    for (const dir of this.dirs.values()) dir.setgid = null;
  }

  /** Close every cached fd (the root stays). */
  clear(): void {
    for (const dir of this.dirs.values()) close(dir.fd);
    this.dirs.clear();
  }
}

/** The setgid state of a directory whose mode was just set to `mode`. */
export function setgidOf(mode: number): boolean {
  return (mode & S_ISGID) !== 0;
}
