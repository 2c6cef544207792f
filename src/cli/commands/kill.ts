/** tsbox kill [-s SIGNAL] NAME...: send a signal (default SIGKILL) to the container's PID 1. */
import { Command } from 'commander';
import { signalContainer } from '../../runtime/control.js';
import { parseSignal, storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { forEachContainer } from './each-container.js';

export function killCommand(): Command {
  const cmd = new Command('kill')
    .description("send a signal to containers' main process")
    .argument('<container...>', 'names, ids or unique id prefixes')
    .option('-s, --signal <signal>', 'signal name or number', 'KILL')
    .action(async (refs: string[], flags: CommonOptions & { signal: string }) => {
      const store = storeFor(flags.root);
      const signal = parseSignal(flags.signal);
      await forEachContainer(refs, async (ref) => {
        signalContainer(store, store.resolve(ref), signal);
        writeLine(1, ref);
      });
    });
  return addCommonOptions(cmd);
}
