/**
 * The one table of `tsbox run`'s flags (and of the flags every command accepts). Everything
 * else about a flag comes from here: its commander option (cli/flag-options.ts), the option
 * of the run it sets (flagsToRunOptions below), the name error messages give it
 * (spec/schema.ts FLAG_NAMES) and which flags take a value for the start-up scanner
 * (cli/run-argv.ts). Adding a flag is one row here, plus its field in spec/schema.ts if it
 * is a new option (a unit test checks the two agree).
 *
 * Pure data, and imports nothing at run time: the start-up path reads it before the CLI
 * (commander, zod) is loaded.
 */
import type { RunOptions } from '../spec/schema.js';

/**
 * none: a switch (true when given); required: `--opt VALUE`; optional: `--opt[=VALUE]`
 * (the next argument is the value unless it looks like an option); repeatable: `--opt VALUE`
 * given any number of times, collected into an array.
 */
export type FlagValue = 'none' | 'required' | 'optional' | 'repeatable';

export interface FlagRow {
  /** Without the dashes: "env-file". A "no-" prefix is commander's negation of the flag without it. */
  readonly long: string;
  readonly short?: string;
  readonly value: FlagValue;
  /** The value's placeholder in --help: "<NAME=VALUE>". */
  readonly arg?: string;
  readonly help: string;
  /** The option of the run it sets; null for a flag the command reads itself (-i). */
  readonly key: keyof RunOptions | null;
  /** commander's default; omitted where the schema's default applies (shown only when it says something). */
  readonly default?: string | boolean;
  readonly choices?: readonly string[];
  /** How an optional value is read: 'boolean' takes true or false. */
  readonly parse?: 'boolean';
  /** A switch ('none') that sets this value instead of true (commander's preset). */
  readonly preset?: string;
  /** Left out of --help (flags for testing). */
  readonly hidden?: boolean;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Accepted by every tsbox command (cli/options.ts addCommonOptions). */
export const COMMON_FLAGS: readonly FlagRow[] = [
  { long: 'root', value: 'required', arg: '<dir>', key: 'root', help: 'state root: image cache and containers (default $TSBOX_ROOT or /var/lib/tsbox)' },
  { long: 'log-level', value: 'required', arg: '<level>', key: 'logLevel', help: 'runtime log level', choices: LOG_LEVELS, default: 'warn' },
  { long: 'log-format', value: 'required', arg: '<format>', key: 'logFormat', help: 'runtime log format', choices: ['json', 'pretty'], default: 'json' },
  { long: 'debug', value: 'none', key: 'debug', default: false, help: 'log every setup step with its syscalls and arguments' },
  { long: 'no-openat2', value: 'none', key: 'openat2', hidden: true, help: 'testing only: resolve paths inside the root as on kernels before 5.6, without openat2' },
];

/**
 * --explain and --explain=json (run, create, exec, start). Two switches rather than one
 * optional value: commander would take the next argument (ROOTFS) as the value of
 * `--explain ROOTFS`; a switch named "explain=json" matches only that exact spelling.
 */
export const EXPLAIN_FLAGS: readonly FlagRow[] = [
  { long: 'explain', value: 'none', key: 'explain', preset: 'text', help: 'before each setup step, say what it does and why, show its syscalls and what you would see without it (stderr; --explain=json for tools)' },
  { long: 'explain=json', value: 'none', key: 'explain', preset: 'json', hidden: true, help: '--explain as one JSON object per step' },
];

/** `tsbox run`'s own flags, in --help order. */
export const RUN_FLAGS: readonly FlagRow[] = [
  { long: 'env', short: 'e', value: 'repeatable', arg: '<NAME=VALUE>', key: 'env', help: 'set an environment variable (NAME alone copies it from tsbox\'s environment)' },
  { long: 'env-file', value: 'repeatable', arg: '<file>', key: 'envFiles', help: 'read environment variables from a file, one NAME=VALUE per line' },
  { long: 'workdir', short: 'w', value: 'required', arg: '<dir>', key: 'workdir', help: 'working directory inside the container (created if missing)' },
  { long: 'user', short: 'u', value: 'required', arg: '<user[:group]>', key: 'user', help: 'user to run as: UID[:GID] or a name from the image\'s /etc/passwd' },
  { long: 'volume', short: 'v', value: 'repeatable', arg: '<host:container[:ro]>', key: 'volumes', help: 'bind-mount a host path (absolute, or relative starting with ".")' },
  { long: 'tmpfs', value: 'repeatable', arg: '<path[:options]>', key: 'tmpfs', help: 'mount a tmpfs (default noexec,nosuid,nodev)' },
  { long: 'hostname', value: 'required', arg: '<name>', key: 'hostname', help: 'container host name (default: the short container id)' },
  { long: 'read-only', value: 'none', key: 'readOnly', help: 'mount the container\'s root filesystem read-only' },
  { long: 'read-only-tmpfs', value: 'optional', arg: '[bool]', key: 'readOnlyTmpfs', parse: 'boolean', default: true, help: 'with --read-only: a tmpfs on /tmp, /var/tmp and /run (default true; =false keeps them read-only)' },
  { long: 'max-rootfs-size', value: 'required', arg: '<size>', key: 'maxRootfsSize', help: 'refuse archives that extract to more than this, file content and headers (default 64g)' },
  { long: 'max-rootfs-entries', value: 'required', arg: '<n>', key: 'maxRootfsEntries', help: 'refuse archives with more members than this (default 1000000)' },
  { long: 'cap-add', value: 'repeatable', arg: '<cap>', key: 'capAdd', help: 'add a capability (CAP_NET_ADMIN, net_admin, ALL)' },
  { long: 'cap-drop', value: 'repeatable', arg: '<cap>', key: 'capDrop', help: 'drop a capability (or ALL)' },
  { long: 'privileged', value: 'none', key: 'privileged', help: 'all capabilities, no seccomp, nothing masked, writable /sys' },
  { long: 'security-opt', value: 'repeatable', arg: '<opt>', key: 'securityOpt', help: 'no-new-privileges[=true|false] (default false, as docker), seccomp=unconfined or seccomp=PROFILE.json (docker format)' },
  { long: 'memory', short: 'm', value: 'required', arg: '<size>', key: 'memory', help: 'memory limit (memory.max), e.g. 512m' },
  { long: 'memory-swap', value: 'required', arg: '<size>', key: 'memorySwap', help: 'memory plus swap limit, -1 for unlimited swap' },
  { long: 'memory-reservation', value: 'required', arg: '<size>', key: 'memoryReservation', help: 'memory soft limit (memory.low)' },
  { long: 'cpus', value: 'required', arg: '<n>', key: 'cpus', help: 'CPU limit in CPUs, e.g. 1.5 (cpu.max)' },
  { long: 'cpu-weight', value: 'required', arg: '<n>', key: 'cpuWeight', help: 'relative CPU weight 1-10000 (cpu.weight)' },
  { long: 'cpu-shares', short: 'c', value: 'required', arg: '<n>', key: 'cpuShares', help: 'relative CPU shares 2-262144, mapped to cpu.weight' },
  { long: 'cpuset-cpus', value: 'required', arg: '<list>', key: 'cpusetCpus', help: 'CPUs allowed, e.g. 0-1 or 0,2' },
  { long: 'pids-limit', value: 'required', arg: '<n>', key: 'pidsLimit', help: 'maximum number of processes (pids.max), -1 for unlimited' },
  { long: 'device-read-bps', value: 'repeatable', arg: '<dev:rate>', key: 'deviceReadBps', help: 'read rate limit of a block device, e.g. /dev/vda:10m' },
  { long: 'device-write-bps', value: 'repeatable', arg: '<dev:rate>', key: 'deviceWriteBps', help: 'write rate limit of a block device' },
  { long: 'device', value: 'repeatable', arg: '<host[:container][:rwm]>', key: 'devices', help: 'give the container a host device (a node in its /dev, allowed in its device policy)' },
  { long: 'device-cgroup-rule', value: 'repeatable', arg: '<rule>', key: 'deviceCgroupRules', help: "allow devices in the container's device policy: 'c 1:3 rwm', 'b 7:* rw' (type a/c/b, * for any number)" },
  { long: 'cgroup-parent', value: 'required', arg: '<path>', key: 'cgroupParent', help: 'parent cgroup, relative to the cgroup2 mount (default tsbox)' },
  { long: 'network', value: 'required', arg: '<mode>', key: 'network', help: 'network: none (loopback only; the default without -p), bridge (eth0 on tsbox0, NAT; the default with -p), host, NAME (a tsbox network), container:NAME (share its network)' },
  { long: 'network-alias', value: 'repeatable', arg: '<name>', key: 'networkAliases', help: 'another name other containers on a user network reach this one by' },
  { long: 'publish', short: 'p', value: 'repeatable', arg: '<[ip:]host:container[/proto]>', key: 'publish', help: 'publish a container port on the host: 8080:80, 127.0.0.1:8080:80/tcp, 80 (random host port), ranges 8000-8001:80-81' },
  { long: 'publish-all', short: 'P', value: 'none', key: 'publishAll', help: 'publish every exposed port (accepted; images carry no ExposedPorts yet, so it publishes nothing)' },
  { long: 'ip', value: 'required', arg: '<address>', key: 'ip', help: 'the container\'s IPv4 address on its network' },
  { long: 'mac-address', value: 'required', arg: '<mac>', key: 'macAddress', help: 'the MAC address of the container\'s eth0' },
  { long: 'dns', value: 'repeatable', arg: '<ip>', key: 'dns', help: 'a nameserver for the container\'s /etc/resolv.conf' },
  { long: 'dns-search', value: 'repeatable', arg: '<domain>', key: 'dnsSearch', help: 'a search domain for the container\'s /etc/resolv.conf' },
  { long: 'dns-option', value: 'repeatable', arg: '<opt>', key: 'dnsOptions', help: 'a resolver option for the container\'s /etc/resolv.conf (ndots:2)' },
  { long: 'add-host', value: 'repeatable', arg: '<name:ip>', key: 'addHosts', help: 'add NAME:IP to the container\'s /etc/hosts (IP may be host-gateway)' },
  { long: 'stats', value: 'none', key: 'stats', help: 'print a one-line resource summary when the container exits' },
  { long: 'stats-file', value: 'required', arg: '<file>', key: 'statsFile', help: 'write the resource summary as JSON' },
  { long: 'interactive', short: 'i', value: 'none', key: null, help: 'keep stdin open (always on; accepted for docker habits)' },
  { long: 'rm', value: 'none', key: 'rm', help: 'remove the container when it exits, also with -d or --name (the default without them)' },
  { long: 'name', value: 'required', arg: '<name>', key: 'name', help: 'name the container; it is then kept after it exits, for logs, inspect and rm' },
  { long: 'detach', short: 'd', value: 'none', key: 'detach', help: 'run in the background: print the id; output goes to tsbox logs' },
  { long: 'tty', short: 't', value: 'none', key: 'tty', help: 'allocate a terminal (the default when stdin is one)' },
  { long: 'no-tty', value: 'none', key: 'tty', help: 'do not allocate a terminal even when stdin is one' },
  { long: 'init', value: 'none', key: 'init', help: 'run a small init (tini) as PID 1: it reaps zombies and forwards signals' },
  { long: 'label', short: 'l', value: 'repeatable', arg: '<key=value>', key: 'labels', help: 'set a container label (KEY alone: empty value)' },
  { long: 'label-file', value: 'repeatable', arg: '<file>', key: 'labelFiles', help: 'read labels from a file, one KEY=VALUE per line' },
  { long: 'log-opt', value: 'repeatable', arg: '<opt>', key: 'logOpts', help: 'log limits of a kept container: max-size=SIZE, max-file=N (default: unlimited, as docker)' },
];

/** Everything `tsbox run` accepts, as commander is given it (cli/commands/run.ts). */
export const ALL_RUN_FLAGS: readonly FlagRow[] = [...RUN_FLAGS, ...EXPLAIN_FLAGS, ...COMMON_FLAGS];

/** The property commander stores a flag under: "env-file" -> envFile, "no-tty" -> tty. */
export function attributeOf(row: FlagRow): string {
  return row.long.replace(/^no-/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** How a flag is named in messages: "-e/--env", "--env-file". */
export function flagName(row: FlagRow): string {
  return row.short ? `-${row.short}/--${row.long}` : `--${row.long}`;
}

/**
 * commander's parsed flags -> the options of the run: each row's value under its key, a
 * repeatable flag never given being []. Flags the command maps itself (-v's relative host
 * paths, the terminal choice) are overridden by the caller.
 */
export function flagsToRunOptions(flags: Readonly<Record<string, unknown>>): Partial<RunOptions> {
  const options: Record<string, unknown> = {};
  for (const row of ALL_RUN_FLAGS) {
    if (row.key === null) continue;
    const value = flags[attributeOf(row)];
    // Two rows of one key under two attributes (--explain, --explain=json): the given one wins.
    if (value === undefined && options[row.key] !== undefined) continue;
    options[row.key] = row.value === 'repeatable' ? value ?? [] : value;
  }
  return options as Partial<RunOptions>;
}
