/**
 * The tsbox command line: one file per command under commands/, errors rendered and
 * mapped to exit statuses in one place (render-error.ts).
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { gcCommand } from './commands/gc.js';
import { rootfsCommand } from './commands/rootfs.js';
import { runCommand } from './commands/run.js';
import { restartCommand, startCommand } from './commands/start.js';
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
import { networkCommand } from './commands/network.js';
import { portCommand } from './commands/port.js';
import { pullCommand } from './commands/pull.js';
import { loginCommand, logoutCommand } from './commands/login.js';
import { loadCommand } from './commands/load.js';
import { imagesCommand } from './commands/images.js';
import { rmiCommand } from './commands/rmi.js';
import { tagCommand } from './commands/tag.js';
import { imageCommand } from './commands/image.js';
import { saveCommand } from './commands/save.js';
import { hoistCommonFlags } from './global-flags.js';
import { reportError, writeLine } from './render-error.js';
import { decideStateAccess, probeDir } from './state-access.js';
import { DEFAULT_ROOT, resolveRoot } from '../spec/run-spec.js';
import { stateDirFor } from '../runtime/state/store.js';
import { useOpenat2 } from '../sys/fs.js';

/** Every command, by the name it is called with (in the order help lists them). */
const COMMANDS: [string, () => Command][] = [
  ['run', () => runCommand()], ['create', () => runCommand('create')], ['start', startCommand], ['restart', restartCommand],
  ['ps', psCommand], ['inspect', inspectCommand], ['logs', logsCommand], ['stop', stopCommand], ['kill', killCommand],
  ['rm', rmCommand], ['wait', waitCommand], ['exec', execCommand], ['stats', statsCommand], ['prune', pruneCommand],
  ['gc', gcCommand], ['rootfs', rootfsCommand], ['cp', cpCommand], ['top', topCommand], ['attach', attachCommand],
  ['rename', renameCommand], ['pull', pullCommand], ['login', loginCommand], ['logout', logoutCommand],
  ['network', networkCommand], ['port', portCommand], ['load', loadCommand], ['images', imagesCommand], ['rmi', rmiCommand],
  ['tag', tagCommand], ['image', imageCommand], ['save', saveCommand],
];

/**
 * The program with every command, or with only `command` when that names one: each
 * command builds its options on creation (run alone has ~80), and `tsbox run` should not
 * pay for thirty others at every container start. Anything else (no command, --help,
 * --version, a misspelt command that needs suggestions) gets them all.
 */
export function buildProgram(command?: string): Command {
  const program = new Command('tsbox')
    .description('run commands in containers: namespaces, cgroup v2, overlayfs, from a rootfs tarball')
    .version(process.env.npm_package_version ?? '0.1.0')
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  const named = COMMANDS.filter(([name]) => name === command);
  for (const [, make] of named.length > 0 ? named : COMMANDS) program.addCommand(make());
  // Commander's own usage errors become our one-line, exit-125 errors.
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => writeLine(1, s.trimEnd()),
      writeErr: (s) => writeLine(2, s.trimEnd()),
      outputError: () => {},
    });
    // A command with subcommands given none (`tsbox`, `tsbox rootfs`) shows its help on
    // stdout and exits 0, as docker does; commander would treat it as an error (status 1).
    if (cmd.commands.length > 0) cmd.help = () => (Command.prototype.help as (context: { error: boolean }) => never).call(cmd, { error: false });
    cmd.commands.forEach(configure);
  };
  configure(program);
  program.hook('preAction', (_program, action) => {
    // --no-openat2 (hidden, for testing): this process resolves as on kernels before 5.6; a
    // run's init and an exec's exec-init are told in their plans.
    if (action.opts().openat2 === false) useOpenat2(false);
    checkStateRoot(action);
  });
  return program;
}

/** Commands that never touch the state root: they need no root. */
const STATELESS = new Set(['rootfs from-host']);

/** Without root, the state root decides: one line naming what is needed (state-access.ts). */
function checkStateRoot(action: Command): void {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return; // root's own failures (a read-only disk...) are real errors, reported where they happen
  const names: string[] = [];
  for (let c: Command | null = action; c && c.parent; c = c.parent) names.unshift(c.name());
  const command = names.join(' ');
  if (STATELESS.has(command)) return;
  const root = resolveRoot((action.opts() as { root?: string }).root);
  const denied = decideStateAccess(command, uid, [probeDir(root), probeDir(stateDirFor(root, DEFAULT_ROOT))]);
  if (denied) throw denied;
}

export async function main(argv: string[]): Promise<number> {
  // The command's name as it comes after any common flags given before it (global-flags.ts).
  const program = buildProgram(hoistCommonFlags(argv.slice(2), () => [])[0]);
  try {
    const subcommandsOf = (name: string): string[] => {
      // The path so far is walked from the top: `network` -> its subcommands' names and aliases.
      const cmd = program.commands.find((c) => c.name() === name) ?? program.commands.flatMap((c) => c.commands).find((c) => c.name() === name);
      return cmd ? cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]) : [];
    };
    await program.parseAsync([...argv.slice(0, 2), ...hoistCommonFlags(argv.slice(2), subcommandsOf)]);
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
