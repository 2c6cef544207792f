/**
 * tsbox start [-a] NAME...: start created containers (their held init execs the command),
 * or stopped ones anew with the same config. -a (one container): follow its output until it
 * exits and exit with its status, as `docker start -a` does.
 */
import { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { printLogs, waitForExit } from '../../runtime/control.js';
import { startContainer } from '../../runtime/start.js';
import type { Attachment } from '../../runtime/start-socket.js';
import { parseNonNegativeInt, storeFor } from '../container-args.js';
import { addCommonOptions, addFlags, type CommonOptions } from '../options.js';
import { EXPLAIN_FLAGS } from '../run-flags.js';
import { writeLine } from '../render-error.js';
import { forEachContainer } from './each-container.js';

export function startCommand(): Command {
  const cmd = new Command('start')
    .description('start created (or stopped) containers')
    .argument('<container...>', 'names, ids or unique id prefixes')
    .option('-a, --attach', "follow the container's output until it exits, and exit with its status", false)
    .action(async (refs: string[], flags: CommonOptions & { attach: boolean; explain?: 'text' | 'json'; 'explain=json'?: 'json' }) => {
      const store = storeFor(flags.root);
      const explain = flags['explain=json'] ?? flags.explain;
      if (flags.attach) {
        if (refs.length !== 1) throw new UsageError('-a attaches to one container', { hint: 'Start the others without -a.' });
        const r = store.resolve(refs[0]!);
        let started = false;
        let exitCode: number | null | undefined;
        // Follow from before the start, so the first lines it writes are not missed.
        const following = printLogs(store, r, { follow: true, tail: 0, fromNow: true, finished: () => exitCode !== undefined || (started && (store.read(r.shortId)?.status ?? 'exited') === 'exited') });
        let attachment: Attachment | undefined;
        try {
          ({ attachment } = await startContainer(store, r, { attach: true, explain }));
          // A held container's monitor says how it ended, and keeps a --rm container (and its
          // log) until we hang up; a stopped one started anew is followed through its record.
          if (attachment) exitCode = await attachment.exited;
        } finally {
          started = true;
        }
        await following;
        attachment?.hangUp();
        process.exitCode = exitCode ?? (await waitForExit(store, r.shortId))?.exitCode ?? 0;
        return;
      }
      await forEachContainer(refs, async (ref) => {
        const r = store.resolve(ref);
        await startContainer(store, r, { explain });
        writeLine(1, ref);
      });
    });
  return addCommonOptions(addFlags(cmd, EXPLAIN_FLAGS));
}

export function restartCommand(): Command {
  const cmd = new Command('restart')
    .description('stop containers (SIGTERM, then SIGKILL) and start them again with the same config')
    .argument('<container...>', 'names, ids or unique id prefixes')
    .option('-t, --time <seconds>', 'seconds to wait for it to stop before SIGKILL', '10')
    .action(async (refs: string[], flags: CommonOptions & { time: string }) => {
      const timeoutS = parseNonNegativeInt(flags.time, '-t/--time'); // as stop reads it
      const store = storeFor(flags.root);
      const { restartContainer } = await import('../../runtime/start.js');
      await forEachContainer(refs, async (ref) => {
        await restartContainer(store, store.resolve(ref), timeoutS);
        writeLine(1, ref);
      });
    });
  return addCommonOptions(cmd);
}
