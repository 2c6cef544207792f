/**
 * tsbox network create/ls/inspect/rm/prune: user-defined networks (src/network). Networks
 * are host-wide, shared by every --root (/var/lib/tsbox-net): a definition changes nothing on
 * the host until a container attaches (docs/networking.md).
 */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { addCommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

/** The library, loaded when a network command runs: other commands never pay for it. */
const lib = async () => {
  const [index, store, release] = await Promise.all([import('../../network/index.js'), import('../../network/ipam/store.js'), import('../../network/release.js')]);
  const ctx = index.netContext();
  /** Live attachments of a network, dead owners' leases reclaimed first. */
  const liveLeases = (name: string) => store.withNetworkLock(ctx.paths, name, () => {
    release.reclaimDeadLeases(ctx, name);
    return store.readLeases(ctx.paths, name);
  });
  return { ...index, ctx, liveLeases };
};

export function networkCommand(): Command {
  const network = new Command('network').description('manage networks: containers on one user network reach each other by name');
  addCommonOptions(network.command('create')
    .description('define a network (a bridge, made when its first container attaches)')
    .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.46.7.0/24 (default: the first free /24 of 10.46.0.0/16)')
    .option('--gateway <ip>', 'the host\'s address on the network (default: the subnet\'s first address)')
    .argument('<name>', 'network name')
    .action(async (name: string, flags: { subnet?: string; gateway?: string }) => {
      const { createNetwork, ctx } = await lib();
      if (name === 'bridge' || name === 'host' || name === 'none' || name.startsWith('container:')) throw new UsageError(`network name "${name}" is reserved`, { step: 'network create', hint: 'Choose another name.' });
      const def = createNetwork(ctx, { name, ...(flags.subnet ? { subnet: flags.subnet } : {}), ...(flags.gateway ? { gateway: flags.gateway } : {}) });
      writeLine(1, def.name);
    }));
  addCommonOptions(network.command('ls')
    .description('list networks')
    .option('-q, --quiet', 'names only')
    .action(async (flags: { quiet?: boolean }) => {
      const { listNetworks, ctx, liveLeases } = await lib();
      const defs = listNetworks(ctx.paths);
      if (flags.quiet) {
        for (const d of defs) writeLine(1, d.name);
        return;
      }
      const rows = [['NAME', 'SUBNET', 'GATEWAY', 'BRIDGE', 'CONTAINERS'], ...defs.map((d) => [d.name, d.subnet, d.gateway, d.bridge, String(liveLeases(d.name).length)])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) writeLine(1, r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join(''));
    }));
  addCommonOptions(network.command('inspect')
    .description('show a network and its containers as JSON')
    .argument('<name...>', 'network names')
    .action(async (names: string[]) => {
      const { readNetwork, ctx, liveLeases } = await lib();
      const out = names.map((name) => {
        const def = readNetwork(ctx.paths, name);
        if (!def) throw new UsageError(`network ${name} does not exist`, { step: 'network inspect', hint: 'See tsbox network ls.' });
        const containers = liveLeases(name).map((l) => ({ id: l.owner.containerId, names: l.names ?? [], ip: l.ip, mac: l.mac, ports: l.ports }));
        return { ...def, containers };
      });
      writeLine(1, JSON.stringify(out, null, 2));
    }));
  addCommonOptions(network.command('rm')
    .description('remove networks (refused while a container uses one)')
    .argument('<name...>', 'network names')
    .action(async (names: string[]) => {
      const { removeNetwork, ctx } = await lib();
      for (const name of names) {
        removeNetwork(ctx, name);
        writeLine(1, name);
      }
    }));
  addCommonOptions(network.command('prune')
    .description('remove every network no container uses; the default network\'s bridge and nft table go too (its next container makes them again)')
    .action(async () => {
      const { listNetworks, removeNetwork, ctx, liveLeases } = await lib();
      // The default network's bridge stays up between containers (docs/networking.md, "The
      // default network stays up"): prune is how it goes, so the host can be left with
      // nothing of tsbox's. Its definition goes too; ensureNetwork writes it again.
      for (const d of listNetworks(ctx.paths)) {
        if (liveLeases(d.name).length > 0) continue;
        removeNetwork(ctx, d.name);
        writeLine(1, d.name);
      }
    }));
  return network;
}
