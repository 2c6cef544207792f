/** tsbox exec [-it] [-e K=V] [-w DIR] [-u USER] NAME COMMAND [ARG...] */
import { Command } from 'commander';
import { createLogger } from '../../log.js';
import { execInContainer } from '../../runtime/exec.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, addFlags, collect, type CommonOptions } from '../options.js';
import { EXPLAIN_FLAGS } from '../run-flags.js';
import { decideTty } from '../tty-choice.js';
// isatty(), not process.stdout.isTTY: creating Node's stdio streams makes a pipe non-blocking,
// and the container shares that pipe (its writes would fail with EAGAIN).
import { isatty } from 'node:tty';

interface ExecCliFlags extends CommonOptions {
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  explain?: 'text' | 'json';
  'explain=json'?: 'json';
}

export function execCommand(): Command {
  const cmd = new Command('exec')
    .description("run a command in a running container: its namespaces, cgroup, root, capabilities and environment")
    .argument('<container>', 'name, id or unique id prefix')
    .argument('<command...>', 'command and arguments')
    .option('-e, --env <NAME=VALUE>', "set an environment variable on top of the container's", collect)
    .option('-w, --workdir <dir>', "working directory (default: the container's)")
    .option('-u, --user <user[:group]>', "user to run as (default: the container's)")
    .option('-i, --interactive', 'keep stdin open (always on; accepted for docker habits)')
    .option('-t, --tty', 'allocate a terminal (the default when stdin is one)')
    .option('--no-tty', 'do not allocate a terminal even when stdin is one')
    .passThroughOptions()
    .action(async (ref: string, command: string[], flags: ExecCliFlags) => {
      const explain = flags['explain=json'] ?? flags.explain;
      const log = createLogger(flags.debug ? 'debug' : flags.logLevel, flags.logFormat, {}, explain);
      const tty = decideTty({ flag: flags.tty, stdinIsTty: isatty(0), detach: false, rootfsFromStdin: false });
      process.exitCode = await execInContainer(storeFor(flags.root), ref, { command, env: flags.env ?? [], workdir: flags.workdir, user: flags.user, tty, debug: flags.debug || explain !== undefined, openat2: flags.openat2 }, log);
    });
  return addCommonOptions(addFlags(cmd, EXPLAIN_FLAGS));
}
