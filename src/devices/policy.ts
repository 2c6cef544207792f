/**
 * The container's device policy, decided from its spec. Pure.
 *
 * With a cgroup v2 group, the policy is a device program on it (devices/attach.ts): deny
 * by default, allow DEFAULT_DEVICE_RULES, each --device and each --device-cgroup-rule.
 * --privileged gets no program: every device, as docker.
 *
 * Where no program can be attached (no cgroup v2, or a kernel or seccomp that refuses
 * bpf()), what still keeps the container from host devices is nodev: the rootfs and
 * volumes are mounted nodev, so the image's nodes (and a volume's) do not open, and /dev
 * holds only the nodes tsbox made. That holds as long as the container can neither make a
 * node in /dev (CAP_MKNOD) nor mount or remount without nodev (CAP_SYS_ADMIN: a devtmpfs
 * gives every host device), and --device-cgroup-rule cannot be honoured at all: those are
 * refused there, with the reason.
 */
import { UsageError } from '../errors.js';
import { ruleForDevice, type ContainerDevice } from './device-flag.js';
import { DEFAULT_DEVICE_RULES, type DeviceRule } from './rules.js';

export interface DeviceSpec {
  /** --device: nodes to make in /dev, and allow. */
  nodes: ContainerDevice[];
  /** --device-cgroup-rule, in the order given. */
  rules: DeviceRule[];
}

/** The rules of the program to attach; null: attach none (--privileged). */
export function devicePolicyRules(devices: DeviceSpec, privileged: boolean): DeviceRule[] | null {
  if (privileged) return null;
  return [...DEFAULT_DEVICE_RULES, ...devices.nodes.map(ruleForDevice), ...devices.rules];
}

/** Capabilities with which a container gets around nodev (see above). */
const BYPASS_NODEV = ['CAP_MKNOD', 'CAP_SYS_ADMIN'];

/**
 * No device program could be attached (`why`): null when the container is still kept from
 * host devices, else the one-line refusal.
 */
export function refuseWithoutPolicy(input: { privileged: boolean; devices: DeviceSpec; bounding: readonly string[] | 'all' }, why: string): UsageError | null {
  if (input.privileged) return null;
  const hint = 'Run without it, or on a host where tsbox can attach a device program to the container\'s cgroup v2 group (root, cgroup2 mounted, bpf() allowed).';
  if (input.devices.rules.length > 0) return new UsageError(`cannot apply --device-cgroup-rule: ${why}`, { hint });
  const caps = input.bounding === 'all' ? BYPASS_NODEV : BYPASS_NODEV.filter((c) => input.bounding.includes(c));
  if (caps.length > 0) {
    const names = caps.map((c) => c.slice(4)).join(' and ');
    return new UsageError(`cannot give the container ${names} without a device policy (${why}): it could reach host devices through nodes it makes or mounts`, { hint });
  }
  return null;
}
