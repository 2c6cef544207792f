/**
 * tsbox-runtime's command line: runc's interface (the OCI runtime CLI engines speak).
 * Global flags first, then one command; every command reads its options here and calls
 * one function. Errors are rendered once, in main.ts.
 */
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import type { ExecOptions } from './exec.js';
import { openRuntimeLog, type LogFormat, type RuntimeLog } from './runtime-log.js';
import { parseSignal } from './signal-arg.js';
import { DEFAULT_STATE_ROOT, StateRoot } from './state-dir.js';
import { OCI_VERSION, VERSION } from './version.js';

/**
 * Each command's code is loaded when it runs: engines call state, start, kill and delete
 * many times per container, and those need neither the FFI (koffi) nor the spec's translation.
 * (In the bundle, a dynamic import only defers evaluating the module.)
 */
const lazy = {
  create: () => import('./create.js'),
  exec: () => import('./exec.js'),
  info: () => import('./info.js'),
  lifecycle: () => import('./lifecycle.js'),
  run: () => import('./run.js'),
  update: () => import('./update.js'),
};

/** For the build's code cache (scripts/bundle.mjs): every command's modules, compiled once. */
export async function loadAllCommands(): Promise<void> {
  await Promise.all(Object.values(lazy).map((load) => load()));
}

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
  systemdCgroup: boolean;
  cgroupManager?: string;
}

export interface Outcome {
  /** The process's exit status (run and foreground exec pass the container's on). */
  exitCode: number;
  /** Set once the global flags are read: where a failure is logged. */
  log?: RuntimeLog;
}

const count = (v: string) => {
  if (!/^\d+$/.test(v)) throw new UsageError(`--preserve-fds takes a number of fds (0 or more), not '${v}'`, { hint: 'runc\'s meaning: fds 3..3+N-1 are passed on.' });
  return Number(v);
};

export function buildProgram(outcome: Outcome): Command {
  const program = new Command('tsbox-runtime')
    .description('tsbox as an OCI runtime (runc\'s command line)')
    .version(`tsbox-runtime version ${VERSION}\nspec: ${OCI_VERSION}`, '-v, --version')
    .option('--root <dir>', 'state directory', DEFAULT_STATE_ROOT)
    .option('--log <file>', 'log file (errors, and --debug output)')
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .option('--debug', 'log every step', false)
    .option('--systemd-cgroup', 'use systemd cgroups (not supported)', false)
    .option('--cgroup-manager <manager>', 'cgroupfs, or disabled (podman --cgroups=disabled)')
    .option('--criu <path>', 'ignored: checkpoint/restore is not supported')
    .option('--rootless <value>', 'ignored: tsbox-runtime runs as root')
    .showHelpAfterError(false)
    // As runc: global flags come before the command, and exec's flags before the id; what
    // follows the id is the command with its own flags (`exec ID sh -c 'echo hi'`).
    .enablePositionalOptions()
    .exitOverride();

  const ctx = () => {
    const g = program.opts<GlobalOptions>();
    const log = openRuntimeLog(g.log, g.logFormat, g.debug);
    outcome.log = log;
    if (g.systemdCgroup || g.cgroupManager === 'systemd') {
      throw new UsageError('the systemd cgroup manager is not supported', { step: 'cgroup', hint: 'Use the cgroupfs manager (podman --cgroup-manager cgroupfs; containerd SystemdCgroup = false).' });
    }
    return { g, log, state: new StateRoot(g.root) };
  };

  program.command('create').argument('<id>')
    .option('-b, --bundle <dir>', 'bundle directory', '.')
    .option('--pid-file <file>', 'write the init\'s pid here')
    .option('--console-socket <path>', 'send the pty master here (process.terminal)')
    .option('--no-pivot', 'accepted; tsbox always uses pivot_root')
    .option('--no-new-keyring', 'accepted; no session keyring is made')
    .option('--preserve-fds <n>', 'pass fds 3..3+N-1 on', count, 0)
    .action(async (id: string, o: { bundle: string; pidFile?: string; consoleSocket?: string; preserveFds: number }) => {
      const { g, log, state } = ctx();
      const { createContainer } = await lazy.create();
      const { init } = await createContainer(state, id, { ...o, noCgroup: g.cgroupManager === 'disabled', debug: g.debug }, log);
      // The init is the caller's (its subreaper's) from here: let go of it.
      (init.child.stdio[3] as { destroy(): void } | null)?.destroy();
      init.child.unref();
    });

  program.command('run').argument('<id>')
    .option('-b, --bundle <dir>', 'bundle directory', '.')
    .option('--pid-file <file>', 'write the init\'s pid here')
    .option('--console-socket <path>', 'send the pty master here (process.terminal)')
    .option('--no-pivot', 'accepted').option('--no-new-keyring', 'accepted')
    .option('-d, --detach', 'not supported: use create and start')
    .option('--preserve-fds <n>', 'pass fds 3..3+N-1 on', count, 0)
    .action(async (id: string, o: { bundle: string; pidFile?: string; consoleSocket?: string; preserveFds: number; detach?: boolean }) => {
      const { g, log, state } = ctx();
      if (o.detach) throw new UsageError('run --detach is not supported', { step: 'run', hint: 'Use create, then start.' });
      const { runContainer } = await lazy.run();
      outcome.exitCode = await runContainer(state, id, { ...o, noCgroup: g.cgroupManager === 'disabled', debug: g.debug }, log);
    });

  program.command('start').argument('<id>').action(async (id: string) => {
    const { startContainer } = await lazy.lifecycle();
    const { state, log } = ctx();
    await startContainer(state, id, log);
  });

  program.command('state').argument('<id>').action(async (id: string) => {
    const { stateJson } = await lazy.info();
    process.stdout.write(`${stateJson(ctx().state, id)}\n`);
  });

  program.command('kill').argument('<id>').argument('[signal]')
    .option('-a, --all', 'signal every process of the container', false)
    .action(async (id: string, signal: string | undefined, o: { all: boolean }) => {
      const { state } = ctx();
      const { killContainer } = await lazy.lifecycle();
      killContainer(state, id, parseSignal(signal), o.all);
    });

  program.command('delete').argument('<id>').option('-f, --force', 'kill it first if it runs', false)
    .action(async (id: string, o: { force: boolean }) => {
      const { state, log } = ctx();
      const { deleteContainer } = await lazy.lifecycle();
      await deleteContainer(state, id, o.force, log);
    });

  program.command('pause').argument('<id>').action(async (id: string) => (await lazy.lifecycle()).setFrozen(ctx().state, id, true));
  program.command('resume').argument('<id>').action(async (id: string) => (await lazy.lifecycle()).setFrozen(ctx().state, id, false));

  program.command('ps').argument('<id>').option('-f, --format <format>', 'table or json', 'table')
    .action(async (id: string, o: { format: string }) => {
      const { psText } = await lazy.info();
      process.stdout.write(`${psText(ctx().state, id, o.format)}\n`);
    });

  program.command('list').option('-f, --format <format>', 'table or json', 'table').option('-q, --quiet', 'ids only', false)
    .action(async (o: { format: string; quiet: boolean }) => {
      const { state } = ctx();
      const { listText } = await lazy.info();
      process.stdout.write(`${o.quiet ? state.list().join('\n') : listText(state, o.format)}\n`);
    });

  program.command('update').argument('<id>').option('-r, --resources <file>', 'linux.resources JSON, - for stdin')
    .action(async (id: string, o: { resources?: string }) => {
      const { state } = ctx();
      const { updateResources } = await lazy.update();
      if (!o.resources) throw new UsageError('update needs --resources FILE (or - for stdin)', { step: 'update' });
      updateResources(state, id, o.resources);
    });

  program.command('features').action(async () => {
    ctx();
    const { featuresJson } = await lazy.info();
    process.stdout.write(`${featuresJson()}\n`);
  });

  program.command('spec').option('-b, --bundle <dir>', 'where to write config.json', '.').option('--rootless', 'not supported')
    .action(async (o: { bundle: string; rootless?: boolean }) => {
      ctx();
      const { writeDefaultSpec } = await lazy.info();
      if (o.rootless) throw new UsageError('spec --rootless is not supported', { step: 'spec' });
      writeDefaultSpec(o.bundle);
    });

  program.command('exec').argument('<id>').argument('[command...]').passThroughOptions()
    .option('-p, --process <file>', 'the process, as config.json\'s process object')
    .option('-d, --detach', 'leave the process running; its pid goes to --pid-file', false)
    .option('--pid-file <file>', 'write the process\'s pid here')
    .option('--console-socket <path>', 'send the pty master here')
    .option('-t, --tty', 'allocate a pty', false)
    .option('--cwd <dir>', 'working directory')
    .option('-e, --env <var>', 'environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-u, --user <uid[:gid]>', 'user')
    .option('--preserve-fds <n>', 'pass fds 3..3+N-1 on', count, 0)
    .option('--no-new-privs', 'set no_new_privs')
    .action(async (id: string, command: string[], o: ExecOptions) => {
      const { g, log, state } = ctx();
      const { execInContainer } = await lazy.exec();
      // Everything after the id is the command; a `--` before it is the separator, not the command.
      const args = command[0] === '--' ? command.slice(1) : command;
      outcome.exitCode = await execInContainer(state, id, args, o, log, g.debug);
    });

  return program;
}
