/**
 * setns(CLONE_NEWNS) sets the calling process's root and working directory to the root of
 * the namespace it enters (setns(2)). Coming back to the host's mount namespace after
 * spawning an init therefore leaves tsbox in `/`, and every relative path the user typed
 * (ROOTFS, --env-file, --stats-file, seccomp=FILE...) would then name a file under `/`.
 * The directory is held by an O_PATH fd across the trip, so it is the same directory even
 * if its path was renamed meanwhile, and fchdir'd back to afterwards.
 */
import { AT, O, close, openat } from '../sys/fs.js';
import { fchdir } from '../sys/process.js';

export interface KeptCwd {
  /** Return to the directory held: call after the last setns back home. */
  restore(): void;
}

export function keepCwd(): KeptCwd {
  const fd = openat(AT.FDCWD, '.', O.PATH | O.DIRECTORY | O.CLOEXEC);
  return {
    restore() {
      try {
        fchdir(fd);
        // Node caches process.cwd() and forgets the cache only on its own chdir: chdir('.')
        // (a no-op for the kernel) makes the next process.cwd() ask the kernel again.
        try {
          process.chdir('.');
        } catch {
          // the kernel's cwd is right already; only Node's cached name may be stale
        }
      } finally {
        close(fd);
      }
    },
  };
}
