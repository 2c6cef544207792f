/**
 * config.json's devices as tsbox's device policy (devices/): linux.devices become nodes the
 * container may open, and a resources.devices list ending in "allow everything" (podman
 * --privileged) means no policy, as docker's --privileged. Otherwise the policy is deny by
 * default plus the runtime-spec's default devices (devices/rules.ts DEFAULT_DEVICE_RULES),
 * which is what podman's deny-all and containerd's allow-list amount to. Pure.
 */
import type { DevicePolicyTarget } from '../../devices/index.js';
import type { SecurityPlan } from '../../security/plan.js';
import type { OciConfig } from './config-adapter.js';

interface DeviceRuleJson {
  allow?: boolean;
  type?: string;
  major?: number | null;
  minor?: number | null;
  access?: string;
}

export function devicePolicyOf(config: OciConfig, security: SecurityPlan): DevicePolicyTarget {
  const rules = ((config.linux?.resources as { devices?: DeviceRuleJson[] } | undefined)?.devices ?? []);
  const last = rules.at(-1);
  const allowAll = last !== undefined && last.allow === true && (last.type === undefined || last.type === 'a') && last.major == null && last.minor == null;
  const nodes = (config.linux?.devices ?? []).filter((d) => d.type === 'c' || d.type === 'b').map((d) => ({
    path: d.path,
    type: d.type as 'c' | 'b',
    major: d.major ?? 0,
    minor: d.minor ?? 0,
    permissions: (d.fileMode ?? 0o666) & 0o777,
    uid: d.uid ?? 0,
    gid: d.gid ?? 0,
    access: 'rwm',
  }));
  return { devices: { nodes, rules: [] }, privileged: allowAll, security };
}
