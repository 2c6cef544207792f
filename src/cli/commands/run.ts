/** tsbox run [OPTIONS] ROOTFS [COMMAND [ARG...]] */
import { Command } from 'commander';
import { createHeldWithSpec, runDetachedWithSpec, runWithSpec } from '../../runtime/run-and-report.js';
import { earlyContainerId } from '../../namespaces/early-init.js';
import { buildRunSpec } from '../../spec/run-spec.js';
import { decideTty } from '../tty-choice.js';
// isatty(), not process.stdout.isTTY: creating Node's stdio streams makes a pipe non-blocking,
// and the container shares that pipe (its writes would fail with EAGAIN).
import { isatty } from 'node:tty';
import { formatStatsLine, NOT_MEASURED } from '../../cgroups/index.js';
import { formatBytes } from '../../cgroups/size.js';
import { addFlags } from '../options.js';
import { ALL_RUN_FLAGS, flagsToRunOptions } from '../run-flags.js';
import { writeLine } from '../render-error.js';
import { resolveVolumeSource } from '../host-paths.js';
import { UsageError } from '../../errors.js';

/** Commander's parsed flags, named by the table's attributes (cli/run-flags.ts). */
type RunFlags = Record<string, unknown> & { interactive?: boolean; detach?: boolean; tty?: boolean; volume?: string[] };

/** `tsbox create` takes run's flags: the same config, created and held instead of started (-d is implied). */
export function runCommand(kind: 'run' | 'create' = 'run'): Command {
  const cmd = new Command(kind)
    .description(kind === 'run'
      ? 'run a command in a new container from a root-filesystem tarball (plain or gzip, "-" for stdin) or directory'
      : 'create a container (set up, its command held until tsbox start) and print its id')
    .argument('<rootfs>', 'rootfs tar archive, "-" to read it from stdin, or a directory')
    .argument('[command...]', 'command and arguments (default /bin/sh)')
    .passThroughOptions()
    .action(async (rootfs: string, command: string[], flags: RunFlags) => {
      // -i is CLI-only (the API has stdin): a detached container's stdin is /dev/null, with no attach to feed it.
      if (kind === 'create') {
        if (flags.interactive || flags.tty) throw new UsageError(`${flags.tty ? '-t' : '-i'} and create cannot be combined: a created container's stdio is its log (tsbox has no attach of stdin)`, { hint: 'Drop it; read the output with tsbox start -a or tsbox logs.' });
        if (flags.stats) throw new UsageError('--stats and create cannot be combined: the summary would go to the stderr of tsbox create, which returns before the container starts', { hint: "Use --stats-file FILE: the container's monitor writes it when the container exits." });
        if (rootfs === '-') throw new UsageError('a rootfs on stdin ("-") and create cannot be combined: the container is set up after tsbox create has read its arguments, in the background', { hint: 'Save the archive to a file and give its path.' });
        flags.detach = true;
      }
      if (flags.interactive && flags.detach) throw new UsageError('-i and -d cannot be combined: a detached container\'s stdin is /dev/null (tsbox has no attach)', { hint: 'Drop -i, or run in the foreground.' });
      const options = {
        ...flagsToRunOptions(flags),
        rootfs,
        command,
        volumes: (flags.volume ?? []).map((v) => resolveVolumeSource(v)),
        tty: decideTty({ flag: flags.tty, stdinIsTty: isatty(0), detach: flags.detach === true, rootfsFromStdin: rootfs === '-' }),
      };
      if (kind === 'create') {
        const created = await createHeldWithSpec(await buildRunSpec(options));
        writeLine(1, created.id);
        return;
      }
      if (flags.detach) {
        const started = await runDetachedWithSpec(await buildRunSpec(options));
        writeLine(1, started.id);
        return;
      }
      const result = await runWithSpec(await buildRunSpec(options, process.env, { id: earlyContainerId() }));
      if (result.oomKilled) {
        const limit = options.memory !== undefined ? ` (memory limit ${options.memory})` : '';
        writeLine(2, `tsbox: the container was killed by the kernel's OOM killer${limit}. Raise --memory, or make the job use less memory.`);
      }
      if (options.stats) writeLine(2, `tsbox: ${formatStatsLine(result.stats, result.wallMs)}, ${result.network ? `net rx ${formatBytes(result.network.rxBytes)} tx ${formatBytes(result.network.txBytes)}` : `net ${NOT_MEASURED}`}`);
      process.exitCode = result.exitCode;
    });
  return addFlags(cmd, ALL_RUN_FLAGS);
}
