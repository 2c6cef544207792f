/**
 * What --explain says about `tsbox network create` and `tsbox network rm` (step names:
 * cli/commands/network-trace.ts NETWORK_STEPS). In dist/explain.cjs only, as steps.ts.
 */
import type { Facts, StepText } from './steps.js';

/** The first attach's messages, with this network's values (network/networks.ts setUpBridge). */
function firstAttach(n: NonNullable<Facts['network']>): string {
  const prefix = n.subnet.split('/')[1];
  const mac = ['02', '00', ...n.gateway.split('.').map((p) => Number(p).toString(16).padStart(2, '0'))].join(':');
  return `When its first container attaches, tsbox sends RTM_NEWLINK (NLM_F_CREATE|NLM_F_EXCL: a link of kind "bridge" named ${n.bridge}, MAC ${mac}), RTM_NEWADDR (${n.gateway}/${prefix} on ${n.bridge}: the containers' gateway) and RTM_NEWLINK again to set it IFF_UP; it adds ${n.subnet} to the set "subnets" (masqueraded when it leaves for another interface), ${n.bridge} to "bridges" (its containers may not reach the host's 127.0.0.1) and "${n.bridge}" . "${n.bridge}" to "same_bridge" (forwarding between two different tsbox bridges is dropped) in nft table ip tsbox, and turns on net.ipv4.ip_forward. Each container then gets a veth pair with one end on the bridge.`;
}

export const NETWORK_STEP_TEXTS: readonly StepText[] = [
  {
    match: 'read host routes',
    what: 'A user network is a Linux bridge (a virtual Ethernet switch in the kernel) with a subnet of its own: the containers attached to it get addresses in it and reach each other through the bridge, and tsbox\'s nft table translates their traffic to the outside (NAT) and keeps networks apart. First tsbox reads the host\'s links and routes over rtnetlink (two dump requests, RTM_GETLINK and RTM_GETROUTE, NLM_F_DUMP: the answer is the whole table), to pick or check a subnet that no route of the host uses.',
    without: () => 'without the check a subnet could overlap a network the host already routes (a LAN, a VPN, another runtime\'s bridge): packets meant for those machines would go to the containers instead, or the other way round.',
  },
  {
    match: 'define network',
    what: (f) => `The network is written down, and that is all \`network create\` changes: a definition file (name, subnet, gateway, bridge name), shared by every --root, under a lock so two commands cannot take one name or one subnet. Nothing exists in the kernel yet (podman\'s netavark also waits for the first container; docker makes its bridge at once). ${f.network ? firstAttach(f.network) : ''}`.trim(),
    without: () => 'without a network of their own, containers share the default one (tsbox0): every container on the host could reach every other, and names would not resolve between them.',
  },
  {
    match: 'delete bridge',
    what: 'The network\'s bridge is deleted with RTM_DELLINK (by name). A network whose containers have all gone has no bridge any more (the last one to leave removed it), so the kernel answers ENODEV, and that is fine: there is nothing to delete. Addresses and routes of the bridge go with it.',
    without: () => 'without it the bridge would stay on the host with its gateway address, and its route would keep the subnet taken for every other network.',
  },
  {
    match: 'remove firewall entries',
    what: 'The network\'s entries leave tsbox\'s nft table (its subnet, its bridge in "bridges" and "same_bridge"); when no network is left, the table goes too, so nothing of tsbox\'s stays in the host\'s firewall. Each change is first added then deleted, so the same text works whether or not an entry is still there. When the table does not exist (no network was ever used), `list table` fails and nothing is changed.',
    without: () => 'without it the firewall would keep masquerading a subnet nobody uses, and a later network with the same subnet would inherit rules it did not ask for.',
  },
  {
    match: 'remove network definition',
    what: 'The definition file and the lease directory go: the name and the subnet are free again.',
  },
];
