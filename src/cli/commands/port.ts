/** tsbox port NAME [PORT[/PROTO]]: the container's published ports, from its record (docker's format). */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function portCommand(): Command {
  const cmd = new Command('port')
    .description('list a container\'s published ports, or the host address of one port')
    .argument('<container>', 'name, id or unique id prefix')
    .argument('[port]', 'a container port, e.g. 80 or 80/tcp')
    .action((ref: string, port: string | undefined, flags: CommonOptions) => {
      const r = storeFor(flags.root).resolve(ref);
      let ports = r.status === 'running' ? r.ports ?? [] : [];
      if (port !== undefined) {
        const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(port);
        if (!m) throw new UsageError(`invalid port "${port}"`, { step: 'port', hint: 'Give a container port, e.g. 80 or 80/udp.' });
        ports = ports.filter((p) => p.containerPort === Number(m[1]) && p.proto === (m[2] ?? 'tcp'));
        if (ports.length === 0) throw new UsageError(`no public port ${port} published for ${ref}`, { step: 'port', hint: `See tsbox port ${ref}.` });
        for (const p of ports) writeLine(1, `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}`);
        return;
      }
      for (const p of ports) writeLine(1, `${p.containerPort}/${p.proto} -> ${p.hostIp ?? '0.0.0.0'}:${p.hostPort}`);
    });
  return addCommonOptions(cmd);
}
