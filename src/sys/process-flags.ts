/**
 * clone(2) and prctl(2) constants in a module of their own that loads no FFI, as
 * mount-flags.ts: pure code and unit tests import them without loading koffi.
 * sys/namespaces.ts and sys/process.ts re-export them.
 */

/** clone(2) namespace flags. */
export const CLONE = {
  /** unshare only: give this thread an fs_struct (root, cwd) of its own, which setns(CLONE_NEWNS) requires. */
  FS: 0x00000200,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** prctl(2) options. */
export const PR = {
  SET_PDEATHSIG: 1,
  GET_DUMPABLE: 3,
  SET_DUMPABLE: 4,
  SET_KEEPCAPS: 8,
  SET_NAME: 15,
  CAPBSET_DROP: 24,
  SET_NO_NEW_PRIVS: 38,
  CAP_AMBIENT: 47,
} as const;
