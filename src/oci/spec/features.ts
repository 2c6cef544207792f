/**
 * What `features` prints (runtime-spec features.md): what this tsbox can do with a
 * config.json, so that an engine can check before it asks. Built from the same tables
 * the translators use, so the two cannot drift apart. Pure.
 */
import { ALL_CAPABILITIES } from '../../security/capabilities.js';
import { HOOK_PHASES } from './hooks.js';
import { knownMountOptions } from './mount-options.js';
import { SUPPORTED_NAMESPACES } from './namespaces.js';
import { OCI_VERSION_MAX, OCI_VERSION_MIN } from './version.js';

/** The seccomp actions tsbox compiles (SCMP_ACT_NOTIFY needs an agent: not here). */
export const SECCOMP_ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'];
export const SECCOMP_OPERATORS = ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'];
export const SECCOMP_FLAGS = ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'];

export interface OciFeatures {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: { enabled: boolean; actions: string[]; operators: string[]; archs: string[]; knownFlags: string[]; supportedFlags: string[] };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
  annotations: Record<string, string>;
}

export function ociFeatures(version: string): OciFeatures {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION_MAX,
    hooks: HOOK_PHASES.map((p) => p.phase),
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: [...SUPPORTED_NAMESPACES].sort(),
      capabilities: [...ALL_CAPABILITIES],
      // v2 only, and never v1 (not even on a hybrid host); no systemd manager (cgroups-path.ts).
      cgroup: { v1: false, v2: true, systemd: false, systemdUser: false, rdma: true },
      // The filter is for x86_64; other ABIs' syscalls are killed (seccomp.ts).
      seccomp: { enabled: true, actions: SECCOMP_ACTIONS, operators: SECCOMP_OPERATORS, archs: ['SCMP_ARCH_X86_64'], knownFlags: SECCOMP_FLAGS, supportedFlags: SECCOMP_FLAGS },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.tsbox.version': version },
  };
}
