/**
 * What attaching one container to one network will do, decided in pure code: names, the
 * requested address and MAC checked, the ports parsed. attach.ts walks it.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import { type NetworkDef } from './ipam/store.js';
import { checkRequestedIp, parseCidr } from './ipam/subnet.js';
import { checkDuplicates, parsePublish, type PortSpec } from './ports.js';

export interface AttachOptions {
  ip?: string;
  mac?: string;
  aliases?: string[];
  /** -p values as the user typed them. */
  ports?: string[];
}

export interface AttachPlan {
  network: NetworkDef;
  containerId: string;
  containerName: string;
  /** The host end, named by container id: a dying namespace's veth never collides with a new one. */
  hostVeth: string;
  peerName: 'eth0';
  prefixLen: number;
  ip?: string;
  mac?: string;
  aliases: string[];
  ports: PortSpec[];
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function vethName(containerId: string): string {
  // IFNAMSIZ is 16 with the NUL: "tsb" + 12 characters of the id.
  const id = /^[0-9a-f]{12,}$/.test(containerId) ? containerId : createHash('sha256').update(containerId).digest('hex');
  return `tsb${id.slice(0, 12)}`;
}

/** A locally administered unicast MAC derived from the address, as docker does (02:42:IP). */
export function macForIp(ip: string): string {
  return ['02', '42', ...ip.split('.').map((p) => Number(p).toString(16).padStart(2, '0'))].join(':');
}

export function planAttachment(network: NetworkDef, container: { id: string; name: string }, options: AttachOptions = {}): AttachPlan {
  const cidr = parseCidr(network.subnet);
  if (options.ip !== undefined) checkRequestedIp(cidr, network.gateway, options.ip);
  if (options.mac !== undefined) {
    if (!MAC.test(options.mac)) throw new UsageError(`invalid --mac-address "${options.mac}"`, { step: 'network', hint: 'Give six hex pairs, e.g. 02:42:0a:2d:00:05.' });
    if (parseInt(options.mac.slice(0, 2), 16) & 1) throw new UsageError(`--mac-address ${options.mac} is a multicast address`, { step: 'network', hint: 'The first byte must be even (02:... is a safe choice).' });
  }
  const ports = (options.ports ?? []).flatMap(parsePublish);
  checkDuplicates(ports);
  return {
    network,
    containerId: container.id,
    containerName: container.name,
    hostVeth: vethName(container.id),
    peerName: 'eth0',
    prefixLen: cidr.prefixLen,
    ...(options.ip !== undefined ? { ip: options.ip } : {}),
    ...(options.mac !== undefined ? { mac: options.mac.toLowerCase() } : {}),
    aliases: options.aliases ?? [],
    ports,
  };
}
