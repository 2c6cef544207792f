/** The device policy's calls on Linux (the seam of devices/attach.ts). */
import { BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, BPF_PROG_TYPE_CGROUP_DEVICE } from '../sys/bpf-constants.js';
import { bpfProgAttach, bpfProgLoad } from '../sys/bpf.js';
import { AT, close, O, openat } from '../sys/fs.js';
import type { DevicePolicySys } from './attach.js';

export const linuxDevicePolicySys: DevicePolicySys = {
  loadProgram: (instructions) =>
    bpfProgLoad({ type: BPF_PROG_TYPE_CGROUP_DEVICE, instructions, license: 'MIT', name: 'tsbox_devices', expectedAttachType: BPF_CGROUP_DEVICE }),
  attach: (cgroupFd, programFd) => bpfProgAttach(cgroupFd, programFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI),
  openDirectory: (path) => openat(AT.FDCWD, path, O.RDONLY | O.DIRECTORY),
  close,
};
