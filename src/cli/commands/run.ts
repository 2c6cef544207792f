/** tsbox run [OPTIONS] ROOTFS [COMMAND [ARG...]] */
import { Command } from 'commander';
import { createHeldWithSpec, runDetachedWithSpec, runWithSpec } from '../../runtime/run-and-report.js';
import { earlyContainerId } from '../../namespaces/early-init.js';
import { buildRunSpec } from '../../spec/run-spec.js';
import { decideTty } from '../tty-choice.js';
// isatty(), not process.stdout.isTTY: creating Node's stdio streams makes a pipe non-blocking,
// and the container shares that pipe (its writes would fail with EAGAIN).
import { isatty } from 'node:tty';
import { formatStatsLine, type CgroupLimitFlags } from '../../cgroups/index.js';
import { addCommonOptions, collect, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { resolveVolumeSource } from '../host-paths.js';
import { parseReadOnlyTmpfsFlag } from '../../spec/read-only-tmpfs.js';
import { UsageError } from '../../errors.js';

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
  readOnlyTmpfs: boolean;
  maxRootfsSize?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged: boolean;
  securityOpt?: string[];
  cgroupParent?: string;
  device?: string[];
  deviceCgroupRule?: string[];
  stats: boolean;
  statsFile?: string;
  name?: string;
  detach: boolean;
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  init: boolean;
  label?: string[];
  labelFile?: string[];
  logOpt?: string[];
}

/** `tsbox create` takes run's flags: the same config, created and held instead of started (-d is implied). */
export function runCommand(kind: 'run' | 'create' = 'run'): Command {
  const cmd = new Command(kind)
    .description(kind === 'run'
      ? 'run a command in a new container from a root-filesystem tarball (plain or gzip, "-" for stdin) or directory'
      : 'create a container (set up, its command held until tsbox start) and print its id')
    .argument('<rootfs>', 'rootfs tar archive, "-" to read it from stdin, or a directory')
    .argument('[command...]', 'command and arguments (default /bin/sh)')
    .option('-e, --env <NAME=VALUE>', 'set an environment variable (NAME alone copies it from tsbox\'s environment)', collect)
    .option('--env-file <file>', 'read environment variables from a file, one NAME=VALUE per line', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container (created if missing)')
    .option('-u, --user <user[:group]>', 'user to run as: UID[:GID] or a name from the image\'s /etc/passwd')
    .option('-v, --volume <host:container[:ro]>', 'bind-mount a host path (absolute, or relative starting with ".")', collect)
    .option('--tmpfs <path[:options]>', 'mount a tmpfs (default noexec,nosuid,nodev)', collect)
    .option('--hostname <name>', 'container host name (default: the short container id)')
    .option('--read-only', 'mount the container\'s root filesystem read-only', false)
    .option('--read-only-tmpfs [bool]', 'with --read-only: a tmpfs on /tmp, /var/tmp and /run (default true; =false keeps them read-only)', parseReadOnlyTmpfsFlag, true)
    .option('--max-rootfs-size <size>', 'refuse archives that extract to more than this (default 64g)')
    .option('--cap-add <cap>', 'add a capability (CAP_NET_ADMIN, net_admin, ALL)', collect)
    .option('--cap-drop <cap>', 'drop a capability (or ALL)', collect)
    .option('--privileged', 'all capabilities, no seccomp, nothing masked, writable /sys', false)
    .option('--security-opt <opt>', 'no-new-privileges[=true|false] (default false, as docker), seccomp=unconfined or seccomp=PROFILE.json (docker format)', collect)
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
    .option('--device <host[:container][:rwm]>', 'give the container a host device (a node in its /dev, allowed in its device policy)', collect)
    .option('--device-cgroup-rule <rule>', "allow devices in the container's device policy: 'c 1:3 rwm', 'b 7:* rw' (type a/c/b, * for any number)", collect)
    .option('--cgroup-parent <path>', 'parent cgroup, relative to the cgroup2 mount (default tsbox)')
    .option('--stats', 'print a one-line resource summary when the container exits', false)
    .option('--stats-file <file>', 'write the resource summary as JSON')
    .option('-i, --interactive', 'keep stdin open (always on; accepted for docker habits)')
    .option('--rm', 'remove the container when it exits, also with -d or --name (the default without them)')
    .option('--name <name>', 'name the container; it is then kept after it exits, for logs, inspect and rm')
    .option('-d, --detach', 'run in the background: print the id; output goes to tsbox logs', false)
    .option('-t, --tty', 'allocate a terminal (the default when stdin is one)')
    .option('--no-tty', 'do not allocate a terminal even when stdin is one')
    .option('--init', 'run a small init (tini) as PID 1: it reaps zombies and forwards signals', false)
    .option('-l, --label <key=value>', 'set a container label (KEY alone: empty value)', collect)
    .option('--label-file <file>', 'read labels from a file, one KEY=VALUE per line', collect)
    .option('--log-opt <opt>', 'log limits of a kept container: max-size=SIZE, max-file=N (default: unlimited, as docker)', collect)
    .passThroughOptions()
    .action(async (rootfs: string, command: string[], flags: RunFlags) => {
      // -i is CLI-only (the API has stdin): a detached container's stdin is /dev/null, with no attach to feed it.
      if (kind === 'create') {
        if (flags.interactive || flags.tty) throw new UsageError(`${flags.tty ? '-t' : '-i'} and create cannot be combined: a created container's stdio is its log (tsbox has no attach of stdin)`, { hint: 'Drop it; read the output with tsbox start -a or tsbox logs.' });
        flags.detach = true;
      }
      if (flags.interactive && flags.detach) throw new UsageError('-i and -d cannot be combined: a detached container\'s stdin is /dev/null (tsbox has no attach)', { hint: 'Drop -i, or run in the foreground.' });
      const options = {
        rootfs,
        command,
        root: flags.root,
        env: flags.env ?? [],
        envFiles: flags.envFile ?? [],
        workdir: flags.workdir,
        user: flags.user,
        volumes: (flags.volume ?? []).map((v) => resolveVolumeSource(v)),
        tmpfs: flags.tmpfs ?? [],
        hostname: flags.hostname,
        readOnly: flags.readOnly,
        readOnlyTmpfs: flags.readOnlyTmpfs,
        maxRootfsSize: flags.maxRootfsSize,
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
        devices: flags.device ?? [],
        deviceCgroupRules: flags.deviceCgroupRule ?? [],
        stats: flags.stats,
        statsFile: flags.statsFile,
        name: flags.name,
        detach: flags.detach,
        rm: flags.rm ?? false,
        tty: decideTty({ flag: flags.tty, stdinIsTty: isatty(0), detach: flags.detach, rootfsFromStdin: rootfs === '-' }),
        init: flags.init,
        labels: flags.label ?? [],
        labelFiles: flags.labelFile ?? [],
        logOpts: flags.logOpt ?? [],
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
        const limit = flags.memory ? ` (memory limit ${flags.memory})` : '';
        writeLine(2, `tsbox: the container was killed by the kernel's OOM killer${limit}. Raise --memory, or make the job use less memory.`);
      }
      if (flags.stats) writeLine(2, `tsbox: ${formatStatsLine(result.stats, result.wallMs)}`);
      process.exitCode = result.exitCode;
    });
  return addCommonOptions(cmd);
}
