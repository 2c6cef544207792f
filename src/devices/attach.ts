/**
 * Attach the device program to the container's group, before any process of the container
 * can open a device. The kernel runs the programs of a task's group in the unified (v2)
 * hierarchy on every open and mknod of a device node, also on hosts where the v1 devices
 * controller is mounted (its rules apply as well: both must allow). The program's fd is
 * closed right after: the attachment holds the program, and removing the group at the
 * end of the run detaches and frees it.
 */
import { SysError, VerifierRefusal } from '../sys/sys-error.js';
import { encodeEbpf } from '../security/ebpf.js';
import { compileDeviceProgram } from './program.js';
import type { DeviceRule } from './rules.js';

export interface DevicePolicySys {
  /** BPF_PROG_LOAD of a cgroup device program; its fd. */
  loadProgram(instructions: Buffer): number;
  /** BPF_PROG_ATTACH with BPF_CGROUP_DEVICE and BPF_F_ALLOW_MULTI. */
  attach(cgroupFd: number, programFd: number): void;
  openDirectory(path: string): number;
  close(fd: number): void;
}

export type AttachResult = { attached: true; instructions: number } | { attached: false; why: string };

/**
 * Errors that mean "no device programs here": no bpf() (ENOSYS), a kernel without cgroup
 * BPF or a group that is not cgroup2 (EINVAL), no permission, a security module or a
 * seccomp filter around tsbox that forbids bpf() (EPERM, EACCES), an unsupported attach
 * (EOPNOTSUPP). Not a verifier's refusal: that is a bug, and the run fails.
 */
const UNSUPPORTED = new Set(['ENOSYS', 'EINVAL', 'EPERM', 'EACCES', 'EOPNOTSUPP']);

export function attachDevicePolicy(cgroupPath: string, rules: readonly DeviceRule[], sys: DevicePolicySys): AttachResult {
  const program = encodeEbpf(compileDeviceProgram(rules));
  const fds: number[] = [];
  try {
    fds.push(sys.loadProgram(program));
    fds.push(sys.openDirectory(cgroupPath));
    sys.attach(fds[1]!, fds[0]!);
    return { attached: true, instructions: program.length / 8 };
  } catch (err) {
    if (err instanceof SysError && !(err instanceof VerifierRefusal) && UNSUPPORTED.has(err.code)) return { attached: false, why: err.message };
    throw err;
  } finally {
    for (const fd of fds.reverse()) sys.close(fd);
  }
}
