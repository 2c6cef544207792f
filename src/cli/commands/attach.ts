/**
 * tsbox attach NAME: follow a running container's output from now on (stdout to stdout,
 * stderr to stderr) until it exits, and exit with its status, as `docker attach` does.
 * Signals tsbox receives (Ctrl-C...) are sent to the container (--sig-proxy, docker's
 * default); with --no-sig-proxy, Ctrl-C detaches instead.
 *
 * What it does not do: a detached container's stdin is /dev/null from its start (its
 * monitor holds no pipe to it), so attach cannot feed it; and there is no terminal to
 * share (-d never allocates one), so no detach keys either.
 */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { isRunning, label, printLogs, signalContainer, waitForExit } from '../../runtime/control.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export function attachCommand(): Command {
  const cmd = new Command('attach')
    .description("follow a running container's output from now on, until it exits (its stdin stays closed)")
    .argument('<container>', 'name, id or unique id prefix')
    .option('--no-stdin', 'accepted for docker habits: stdin is never attached')
    .option('--sig-proxy', 'send the signals tsbox receives to the container (default)', true)
    .option('--no-sig-proxy', 'Ctrl-C detaches instead of reaching the container')
    .action(async (ref: string, flags: CommonOptions & { sigProxy: boolean }) => {
      const store = storeFor(flags.root);
      const r = store.resolve(ref);
      if (!r.keep) throw new UsageError(`container ${label(r)} keeps no log to attach to`, { hint: 'Attach works on containers run with -d or --name.' });
      if (!isRunning(store, r)) throw new UsageError(`container ${label(r)} is not running`, { hint: `Its output: tsbox logs ${label(r)}.` });
      let detached = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (!flags.sigProxy) return void (detached = true);
        try {
          signalContainer(store, r, signal);
        } catch {
          // it exited meanwhile: the follow below ends by itself
        }
      };
      for (const s of PROXIED) process.on(s, onSignal);
      try {
        await printLogs(store, r, { follow: true, tail: 0, fromNow: true, finished: () => detached });
      } finally {
        for (const s of PROXIED) process.off(s, onSignal);
      }
      if (detached) return;
      const ended = await waitForExit(store, r.shortId);
      process.exitCode = ended?.exitCode ?? 0;
    });
  return addCommonOptions(cmd);
}
