/**
 * tsbox network create/ls/inspect/rm/prune: user-defined networks (src/network). Networks
 * are host-wide, shared by every --root (/var/lib/tsbox-net): a definition changes nothing on
 * the host until a container attaches (docs/networking.md).
 */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { addCommonOptions, addFlags, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { EXPLAIN_FLAGS } from '../run-flags.js';
import { networkDebug, NETWORK_STEPS, type ExplainFlags } from './network-trace.js';
import type { NetworkTrace } from '../../network/trace.js';

/** The library, loaded when a network command runs: other commands never pay for it. */
const lib = async (trace?: NetworkTrace) => {
  const [index, store, release, networks] = await Promise.all([import('../../network/index.js'), import('../../network/ipam/store.js'), import('../../network/release.js'), import('../../network/networks.js')]);
  const ctx = index.netContext(trace ? { trace } : {});
  /** Live attachments of a network, dead owners' leases reclaimed first. */
  const liveLeases = (name: string) => store.withNetworkLock(ctx.paths, name, () => {
    release.reclaimDeadLeases(ctx, name);
    return store.readLeases(ctx.paths, name);
  });
  return { ...index, hostRoutes: networks.hostRoutes, ctx, liveLeases };
};

export function networkCommand(): Command {
  const network = new Command('network').description('manage networks: containers on one user network reach each other by name');
  addCommonOptions(addFlags(network.command('create')
    .description('define a network (a bridge, made when its first container attaches)')
    .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.46.7.0/24 (default: the first free /24 of 10.46.0.0/16)')
    .option('--gateway <ip>', 'the host\'s address on the network (default: the subnet\'s first address)')
    .argument('<name>', 'network name')
    .action(async (name: string, flags: CommonOptions & ExplainFlags & { subnet?: string; gateway?: string }) => {
      const dbg = await networkDebug(flags);
      const { createNetwork, hostRoutes, ctx } = await lib(dbg.trace);
      if (name === 'bridge' || name === 'host' || name === 'none' || name.startsWith('container:')) throw new UsageError(`network name "${name}" is reserved`, { step: 'network create', hint: 'Choose another name.' });
      dbg.enter(NETWORK_STEPS.routes);
      const routes = hostRoutes(ctx);
      dbg.enter(NETWORK_STEPS.define);
      const def = createNetwork(ctx, { name, ...(flags.subnet ? { subnet: flags.subnet } : {}), ...(flags.gateway ? { gateway: flags.gateway } : {}) }, routes);
      dbg.log.debug({ step: NETWORK_STEPS.define, networkDef: def }, `network ${def.name}: subnet ${def.subnet}, gateway ${def.gateway}, bridge ${def.bridge} (made when its first container attaches); written to ${ctx.paths.networks}/${def.name}.json`);
      writeLine(1, def.name);
    }), EXPLAIN_FLAGS));
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
  addCommonOptions(addFlags(network.command('rm')
    .description('remove networks (refused while a container uses one)')
    .argument('<name...>', 'network names')
    .action(async (names: string[], flags: CommonOptions & ExplainFlags) => {
      const dbg = await networkDebug(flags);
      const { removeNetwork, readNetwork, ctx } = await lib(dbg.trace);
      for (const name of names) {
        const def = readNetwork(ctx.paths, name);
        dbg.enter((kind) => (kind === 'netlink' ? NETWORK_STEPS.bridge : NETWORK_STEPS.firewall));
        removeNetwork(ctx, name);
        if (def) dbg.log.debug({ step: NETWORK_STEPS.forget, networkDef: def }, `network ${name}: ${ctx.paths.networks}/${name}.json and its lease directory removed`);
        writeLine(1, name);
      }
    }), EXPLAIN_FLAGS));
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
