/**
 * The networking library's interface for the container model (docs/networking.md): plan in
 * pure code, attach with a netns fd, release each returned record. Everything else in
 * src/network is its implementation.
 */
export { netContext, type NetContext } from './context.js';
export { planAttachment, type AttachOptions, type AttachPlan } from './plan.js';
export { attach, type Attached } from './attach.js';
export { releaseNetworkResource, reclaimDeadLeases } from './release.js';
export { networkResourceSchema, type NetworkResource } from './resources.js';
export { createNetwork, ensureNetwork, hostFirewallWarnings, removeNetwork, DEFAULT_NETWORK, DEFAULT_SUBNET } from './networks.js';
export { listNetworks, readNetwork, removeNetworkDef, type NetworkDef } from './ipam/store.js';
export { parsePublish, type PortSpec } from './ports.js';
export { linkStats, openNetns } from './links.js';
export { containerHosts, containerResolv, upstreamNameservers, RESOLVED_UPSTREAM } from './resolv.js';
export { startNameServer, namesFromLeases } from './dns/responder.js';
export { describeTrace, type NetworkTrace } from './trace.js';
