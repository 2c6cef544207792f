/** tsbox run [OPTIONS] ROOTFS [COMMAND [ARG...]] */
import { Command } from 'commander';
import { run } from '../../index.js';
import { addCommonOptions, collect, type CommonOptions } from '../options.js';

interface RunFlags extends CommonOptions {
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  volume?: string[];
  tmpfs?: string[];
  hostname?: string;
  readOnly: boolean;
  maxRootfsSize?: string;
}

export function runCommand(): Command {
  const cmd = new Command('run')
    .description('run a command in a new container from a root-filesystem tarball (plain or gzip, "-" for stdin) or directory')
    .argument('<rootfs>', 'rootfs tar archive, "-" to read it from stdin, or a directory')
    .argument('[command...]', 'command and arguments (default /bin/sh)')
    .option('-e, --env <NAME=VALUE>', 'set an environment variable (NAME alone copies it from tsbox\'s environment)', collect)
    .option('--env-file <file>', 'read environment variables from a file, one NAME=VALUE per line', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container (created if missing)')
    .option('-u, --user <user[:group]>', 'user to run as: UID[:GID] or a name from the image\'s /etc/passwd')
    .option('-v, --volume <host:container[:ro]>', 'bind-mount a host path', collect)
    .option('--tmpfs <path[:options]>', 'mount a tmpfs (default noexec,nosuid,nodev)', collect)
    .option('--hostname <name>', 'container host name (default: the short container id)')
    .option('--read-only', 'mount the container\'s root filesystem read-only', false)
    .option('--max-rootfs-size <size>', 'refuse archives that extract to more than this (default 64g)')
    .option('-i, --interactive', 'keep stdin open (always on; accepted for docker habits)')
    .option('--rm', 'remove the container when it exits (always on; accepted for docker habits)')
    .passThroughOptions()
    .action(async (rootfs: string, command: string[], flags: RunFlags) => {
      const result = await run({
        rootfs,
        command,
        root: flags.root,
        env: flags.env ?? [],
        envFiles: flags.envFile ?? [],
        workdir: flags.workdir,
        user: flags.user,
        volumes: flags.volume ?? [],
        tmpfs: flags.tmpfs ?? [],
        hostname: flags.hostname,
        readOnly: flags.readOnly,
        maxRootfsSize: flags.maxRootfsSize,
        logLevel: flags.logLevel,
        logFormat: flags.logFormat,
        debug: flags.debug,
      });
      process.exitCode = result.exitCode;
    });
  return addCommonOptions(cmd);
}
