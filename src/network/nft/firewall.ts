/**
 * Trap 3: an accept in tsbox's table does not override a drop in another table on the same
 * hook. tsbox does not edit other tables; it finds the base chains that would drop its
 * forwarded traffic and says so, in one line each, naming the fix. Pure over `nft list chains`.
 */

export interface DroppingChain {
  family: string;
  table: string;
  chain: string;
}

/** Base chains on the forward hook whose policy is drop, outside tsbox's own table. */
export function forwardDropChains(listChains: string, ownTable: string): DroppingChain[] {
  const out: DroppingChain[] = [];
  let family = '';
  let table = '';
  let chain = '';
  for (const raw of listChains.split('\n')) {
    const line = raw.trim();
    let m = /^table (\S+) (\S+) \{$/.exec(line);
    if (m) {
      family = m[1]!;
      table = m[2]!;
      continue;
    }
    m = /^chain (\S+) \{$/.exec(line);
    if (m) {
      chain = m[1]!;
      continue;
    }
    if (/hook forward\b/.test(line) && /policy drop;/.test(line) && !(table === ownTable && (family === 'ip' || family === 'inet'))) {
      if (family === 'ip' || family === 'inet') out.push({ family, table, chain });
    }
  }
  return out;
}

export function firewallWarning(c: DroppingChain, bridge: string): string {
  return `nft chain ${c.family} ${c.table} ${c.chain} drops forwarded traffic by default: containers on ${bridge} may not reach out. ` +
    `Allow it there, e.g. nft insert rule ${c.family} ${c.table} ${c.chain} iifname "${bridge}" accept; and ... oifname "${bridge}" ct state established,related accept`;
}
