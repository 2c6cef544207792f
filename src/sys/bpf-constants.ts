/**
 * The kernel ABI of bpf(2) as tsbox uses it (a cgroup device program), apart from the call
 * itself (sys/bpf.ts): pure code (the program compiler, its tests) imports these without
 * loading koffi. Values from include/uapi/linux/bpf.h.
 */

/** bpf(2) commands. */
export const BPF_CMD = {
  PROG_LOAD: 5,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_QUERY: 16,
} as const;

/** enum bpf_prog_type: a program that answers the device checks of a cgroup. */
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;

/** enum bpf_attach_type: where such a program hangs in a cgroup. */
export const BPF_CGROUP_DEVICE = 6;

/**
 * Attach flags. ALLOW_MULTI: the programs of a group and of its ancestors all run, and an
 * access is allowed only if every one of them allows it: a program attached below ours
 * (by a nested runtime) can only narrow what ours allows, never widen it.
 */
export const BPF_F_ALLOW_MULTI = 2;

/**
 * struct bpf_cgroup_dev_ctx, what a device program reads (three u32):
 * access_type = (access << 16) | type, then major, then minor.
 */
export const DEVICE_CTX = { accessType: 0, major: 4, minor: 8, size: 12 } as const;

/** BPF_DEVCG_DEV_*: the low 16 bits of access_type. */
export const DEVCG_DEV = { BLOCK: 1, CHAR: 2 } as const;

/** BPF_DEVCG_ACC_*: the high 16 bits of access_type, one bit per kind of access, or-ed. */
export const DEVCG_ACC = { MKNOD: 1, READ: 2, WRITE: 4 } as const;
