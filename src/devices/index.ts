/**
 * The container's devices: docker's --device and --device-cgroup-rule (parsed, pure), the
 * deny-by-default device policy (rules -> eBPF program, pure), and applying it to the
 * container's cgroup (or refusing what is unsafe where that cannot be done).
 */
import type { Logger } from '../log.js';
import type { SecurityPlan } from '../security/index.js';
import { attachDevicePolicy, type DevicePolicySys } from './attach.js';
import { devicePolicyRules, refuseWithoutPolicy, type DeviceSpec } from './policy.js';
import { formatDeviceRule } from './rules.js';

export { parseDeviceFlag, containerDevice, type ContainerDevice, type DeviceRequest } from './device-flag.js';
export { parseDeviceCgroupRule, DEFAULT_DEVICE_RULES, type DeviceRule } from './rules.js';
export { devicePolicyRules, refuseWithoutPolicy, type DeviceSpec } from './policy.js';

export interface DevicePolicyTarget {
  devices: DeviceSpec;
  privileged: boolean;
  security: SecurityPlan;
}

/**
 * Attach the container's device policy to its group (`cgroupPath`, null when it has none),
 * or, where that cannot be done, throw the refusal if the container could then reach host
 * devices. Runs before the init is told to set up the container.
 */
export function applyDevicePolicy(target: DevicePolicyTarget, cgroupPath: string | null, log: Logger, sys: DevicePolicySys): void {
  const rules = devicePolicyRules(target.devices, target.privileged);
  if (rules === null) {
    log.debug({}, '--privileged: no device policy, every device');
    return;
  }
  const result = cgroupPath === null ? { attached: false as const, why: 'there is no writable cgroup v2 hierarchy on this host' } : attachDevicePolicy(cgroupPath, rules, sys);
  if (result.attached) {
    if (log.enabled('debug')) log.debug({ cgroup: cgroupPath, rules: rules.map(formatDeviceRule), instructions: result.instructions }, 'device policy attached');
    return;
  }
  const caps = target.security.capabilities;
  const refusal = refuseWithoutPolicy({ privileged: target.privileged, devices: target.devices, bounding: caps === 'all' ? 'all' : caps.bounding }, result.why);
  if (refusal) throw refusal;
  log.debug({ why: result.why }, 'no device policy: the rootfs and volumes are nodev, and the container cannot make nodes or mount');
}
