/**
 * tsbox's security module: capabilities, no_new_privs, seccomp. The runtime computes a
 * SecurityPlan in the parent (buildSecurityPlan, pure), sends it to the init as JSON, and
 * the init applies it right before execve (applySecurityPlan).
 */
export { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, parseCapabilityName } from './capabilities.js';
export { buildSecurityPlan, describeSecurityPlan } from './plan.js';
export type { CapabilitySets, HostFacts, SeccompPlan, SecurityOptions, SecurityPlan } from './plan.js';
export { applySecurityPlan } from './apply.js';
export type { Credentials } from './apply-steps.js';
export { parseSecurityOpts, type SecurityOptOverrides } from './security-opt.js';
export { compileSeccomp } from './seccomp-compile.js';
