/**
 * The tsbox command line: one file per command under commands/, errors rendered and
 * mapped to exit statuses in one place (render-error.ts).
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { gcCommand } from './commands/gc.js';
import { rootfsCommand } from './commands/rootfs.js';
import { runCommand } from './commands/run.js';
import { psCommand } from './commands/ps.js';
import { inspectCommand } from './commands/inspect.js';
import { logsCommand } from './commands/logs.js';
import { stopCommand } from './commands/stop.js';
import { killCommand } from './commands/kill.js';
import { rmCommand } from './commands/rm.js';
import { waitCommand } from './commands/wait.js';
import { execCommand } from './commands/exec.js';
import { statsCommand } from './commands/stats.js';
import { pruneCommand } from './commands/prune.js';
import { attachCommand } from './commands/attach.js';
import { cpCommand } from './commands/cp.js';
import { renameCommand } from './commands/rename.js';
import { topCommand } from './commands/top.js';
import { pullCommand } from './commands/pull.js';
import { loginCommand, logoutCommand } from './commands/login.js';
import { reportError, writeLine } from './render-error.js';

export function buildProgram(): Command {
  const program = new Command('tsbox')
    .description('run commands in containers: namespaces, cgroup v2, overlayfs, from a rootfs tarball')
    .version(process.env.npm_package_version ?? '0.1.0')
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  for (const cmd of [runCommand(), psCommand(), inspectCommand(), logsCommand(), stopCommand(), killCommand(), rmCommand(), waitCommand(), execCommand(), statsCommand(), pruneCommand(), gcCommand(), rootfsCommand(), cpCommand(), topCommand(), attachCommand(), renameCommand(), pullCommand(), loginCommand(), logoutCommand()]) program.addCommand(cmd);
  // Commander's own usage errors become our one-line, exit-125 errors.
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => writeLine(1, s.trimEnd()),
      writeErr: (s) => writeLine(2, s.trimEnd()),
      outputError: () => {},
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      const message = err.message.replace(/^error:\s*/, '');
      return reportError(new UsageError(message, { hint: "See 'tsbox --help'." }));
    }
    return reportError(err);
  }
}
