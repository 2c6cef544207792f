/**
 * tsbox's nftables table, as text (pure). The rules never change once the table exists:
 * everything that varies (which subnets and bridges are tsbox's, which host ports go to which
 * container) lives in sets and maps, so attaching a container or a network is an element
 * add, never a rule rewrite that could disturb the traffic of other containers.
 */

export const DEFAULT_TABLE = 'tsbox';

export interface PortElement {
  proto: 'tcp' | 'udp';
  /** Host address the port is published on; undefined = every host address. */
  hostIp?: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
function checkTable(table: string): string {
  if (!NAME.test(table)) throw new Error(`invalid nft table name: ${table}`);
  return table;
}

/**
 * The route_localnet guard (see tableText). This chain is the only one of tsbox's that sees
 * every packet entering the host, containers' traffic and everyone else's alike (the NAT
 * chains see only a connection's first packet, forward only forwarded ones), so the test
 * that fails for nearly all of them comes first: comparing the destination with 127.0.0.0/8
 * is a load and a compare, while the interface name is a 16-byte copy and a hash lookup in
 * @bridges. The same packets are dropped in either order.
 */
export const GUARD_RULE = 'ip daddr 127.0.0.0/8 iifname @bridges counter drop';

/**
 * The whole table. Applied only when `list table` says it is missing (under the host-wide
 * network lock), because `add rule` appends even when an identical rule exists.
 */
export function tableText(table = DEFAULT_TABLE): string {
  const t = checkTable(table);
  return `table ip ${t} {
  comment "tsbox container networking: NAT, published ports, isolation"
  set subnets { type ipv4_addr; flags interval; }
  set bridges { type ifname; }
  set same_bridge { type ifname . ifname; }
  map ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }
  map ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
  chain guard {
    type filter hook prerouting priority raw; policy accept;
    ${GUARD_RULE}
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
    fib daddr type local dnat ip to meta l4proto . th dport map @ports_any
  }
  chain output {
    type nat hook output priority -100; policy accept;
    fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
    fib daddr type local dnat ip to meta l4proto . th dport map @ports_any
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr @subnets oifname != @bridges masquerade
    oifname @bridges ip saddr 127.0.0.0/8 masquerade
    oifname @bridges ip saddr @subnets ct status dnat masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname @bridges oifname @bridges iifname . oifname != @same_bridge drop
    iifname @bridges accept
    oifname @bridges ct state established,related accept
    oifname @bridges ct status dnat accept
  }
}
`;
}

/** A network joins tsbox's table: its subnet is NATed, its bridge guarded and isolated. */
export function addNetworkText(table: string, bridge: string, subnet: string): string {
  const t = checkTable(table);
  return [
    `add element ip ${t} subnets { ${subnet} }`,
    `add element ip ${t} bridges { "${bridge}" }`,
    `add element ip ${t} same_bridge { "${bridge}" . "${bridge}" }`,
  ].join('\n') + '\n';
}

/**
 * Idempotent removal: adding an element that exists is a no-op and deleting it then removes
 * it, so the same text works whether or not an earlier (crashed) release got there first.
 */
export function removeNetworkText(table: string, bridge: string, subnet: string): string {
  return addNetworkText(table, bridge, subnet) + addNetworkText(table, bridge, subnet).replaceAll('add element', 'delete element');
}

function portKey(p: PortElement): string {
  return p.hostIp ? `${p.hostIp} . ${p.proto} . ${p.hostPort}` : `${p.proto} . ${p.hostPort}`;
}
const portMap = (p: PortElement) => (p.hostIp ? 'ports_ip' : 'ports_any');
const portValue = (p: PortElement) => `${p.containerIp} . ${p.containerPort}`;

/** `create` fails if the host port is already mapped: two containers cannot share it. */
export function addPortsText(table: string, ports: PortElement[]): string {
  const t = checkTable(table);
  return ports.map((p) => `create element ip ${t} ${portMap(p)} { ${portKey(p)} : ${portValue(p)} }\n`).join('');
}

/**
 * Same add-then-delete trick as removeNetworkText, with the full element (key and value):
 * if the key now maps somewhere else (another owner took the port after a crash), the add
 * fails and nothing of the other owner's is removed.
 */
export function removePortsText(table: string, ports: PortElement[]): string {
  const t = checkTable(table);
  const adds = ports.map((p) => `add element ip ${t} ${portMap(p)} { ${portKey(p)} : ${portValue(p)} }\n`);
  const dels = ports.map((p) => `delete element ip ${t} ${portMap(p)} { ${portKey(p)} }\n`);
  return adds.join('') + dels.join('');
}

/**
 * Whether a listed table (`list table` output) already has the guard as tableText writes it.
 * A table is made once and kept (the default network stays up), so a table made by an
 * earlier tsbox still carries the guard in its old order: same packets dropped, more work.
 */
export function hasCurrentGuard(listing: string): boolean {
  // nft lists the counter with its values: compare up to the word before them. Should an nft
  // version list the rule otherwise, the swap below runs at every bridge set-up: harmless.
  return listing.includes(GUARD_RULE.replace(/ counter drop$/, ' counter '));
}

/**
 * Swaps the guard's rule for the current one in one transaction: nft applies the whole
 * buffer or nothing, so no packet ever meets the chain without a guard rule.
 */
export function guardUpgradeText(table: string): string {
  const t = checkTable(table);
  return `flush chain ip ${t} guard\nadd rule ip ${t} guard ${GUARD_RULE}\n`;
}

export const deleteTableText = (table: string): string => `delete table ip ${checkTable(table)}\n`;
export const listTableText = (table: string): string => `list table ip ${checkTable(table)}\n`;
