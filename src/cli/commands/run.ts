/** tsbox run [OPTIONS] ROOTFS [COMMAND [ARG...]] */
import { Command } from 'commander';
import { runDetached, runWithSpec } from '../../index.js';
import { earlyContainerId } from '../../namespaces/early-init.js';
import { buildRunSpec } from '../../spec/run-spec.js';
import { decideTty } from '../tty-choice.js';
// isatty(), not process.stdout.isTTY: creating Node's stdio streams makes a pipe non-blocking,
// and the container shares that pipe (its writes would fail with EAGAIN).
import { isatty } from 'node:tty';
import { formatStatsLine, type CgroupLimitFlags } from '../../cgroups/index.js';
import { addCommonOptions, collect, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

/** Commander's parsed flags; the resource flags keep the names the cgroups module parses. */
interface RunFlags extends CommonOptions, CgroupLimitFlags {
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  volume?: string[];
  tmpfs?: string[];
  hostname?: string;
  readOnly: boolean;
  maxRootfsSize?: string;
  maxRootfsEntries?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged: boolean;
  securityOpt?: string[];
  cgroupParent?: string;
  stats: boolean;
  statsFile?: string;
  name?: string;
  detach: boolean;
  tty?: boolean;
  init: boolean;
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
    .option('--max-rootfs-size <size>', 'refuse archives that extract to more than this, file content and headers (default 64g)')
    .option('--max-rootfs-entries <n>', 'refuse archives with more members than this (default 1000000)')
    .option('--cap-add <cap>', 'add a capability (CAP_NET_ADMIN, net_admin, ALL)', collect)
    .option('--cap-drop <cap>', 'drop a capability (or ALL)', collect)
    .option('--privileged', 'all capabilities, no seccomp, nothing masked, writable /sys', false)
    .option('--security-opt <opt>', 'no-new-privileges=false, seccomp=unconfined or seccomp=PROFILE.json (docker format)', collect)
    .option('-m, --memory <size>', 'memory limit (memory.max), e.g. 512m')
    .option('--memory-swap <size>', 'memory plus swap limit, -1 for unlimited swap')
    .option('--memory-reservation <size>', 'memory soft limit (memory.low)')
    .option('--cpus <n>', 'CPU limit in CPUs, e.g. 1.5 (cpu.max)')
    .option('--cpu-weight <n>', 'relative CPU weight 1-10000 (cpu.weight)')
    .option('-c, --cpu-shares <n>', 'relative CPU shares 2-262144, mapped to cpu.weight')
    .option('--cpuset-cpus <list>', 'CPUs allowed, e.g. 0-1 or 0,2')
    .option('--pids-limit <n>', 'maximum number of processes (pids.max), -1 for unlimited')
    .option('--device-read-bps <dev:rate>', 'read rate limit of a block device, e.g. /dev/vda:10m', collect)
    .option('--device-write-bps <dev:rate>', 'write rate limit of a block device', collect)
    .option('--cgroup-parent <path>', 'parent cgroup, relative to the cgroup2 mount (default tsbox)')
    .option('--stats', 'print a one-line resource summary when the container exits', false)
    .option('--stats-file <file>', 'write the resource summary as JSON')
    .option('-i, --interactive', 'keep stdin open (always on; accepted for docker habits)')
    .option('--rm', 'remove the container when it exits (the default without -d and --name; accepted for docker habits)')
    .option('--name <name>', 'name the container; it is then kept after it exits, for logs, inspect and rm')
    .option('-d, --detach', 'run in the background: print the id; output goes to tsbox logs', false)
    .option('-t, --tty', 'allocate a terminal (the default when stdin is one)')
    .option('--no-tty', 'do not allocate a terminal even when stdin is one')
    .option('--init', 'keep tsbox\'s init as PID 1: it reaps zombies and forwards signals', false)
    .passThroughOptions()
    .action(async (rootfs: string, command: string[], flags: RunFlags) => {
      const options = {
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
        maxRootfsEntries: flags.maxRootfsEntries,
        logLevel: flags.logLevel,
        logFormat: flags.logFormat,
        debug: flags.debug,
        capAdd: flags.capAdd ?? [],
        capDrop: flags.capDrop ?? [],
        privileged: flags.privileged,
        securityOpt: flags.securityOpt ?? [],
        cgroupParent: flags.cgroupParent,
        memory: flags.memory,
        memorySwap: flags.memorySwap,
        memoryReservation: flags.memoryReservation,
        cpus: flags.cpus,
        cpuWeight: flags.cpuWeight,
        cpuShares: flags.cpuShares,
        cpusetCpus: flags.cpusetCpus,
        pidsLimit: flags.pidsLimit,
        deviceReadBps: flags.deviceReadBps ?? [],
        deviceWriteBps: flags.deviceWriteBps ?? [],
        stats: flags.stats,
        statsFile: flags.statsFile,
        name: flags.name,
        detach: flags.detach,
        tty: decideTty({ flag: flags.tty, stdinIsTty: isatty(0), detach: flags.detach, rootfsFromStdin: rootfs === '-' }),
        init: flags.init,
      };
      if (flags.detach) {
        const started = await runDetached(options);
        writeLine(1, started.id);
        return;
      }
      const result = await runWithSpec(await buildRunSpec(options, process.env, { id: earlyContainerId() }));
      if (result.oomKilled) {
        const limit = flags.memory ? ` (memory limit ${flags.memory})` : '';
        writeLine(2, `tsbox: the container was killed by the kernel's OOM killer${limit}. Raise --memory, or make the job use less memory.`);
      }
      if (flags.stats && result.stats) writeLine(2, `tsbox: ${formatStatsLine(result.stats, result.wallMs)}`);
      process.exitCode = result.exitCode;
    });
  return addCommonOptions(cmd);
}
