/**
 * The few facts about a `tsbox run` command line that the start-up path needs before the
 * CLI is loaded (namespaces/early-init.ts): detached or not, --help, the terminal flags, and
 * --cgroup-parent. Read with commander's rules for run (run.ts): options come before ROOTFS
 * (passThroughOptions: everything after it is the container's command), a value is either
 * `--opt=value`, `--opt value`, `-X value` or `-Xvalue`, and short flags combine (-dit).
 * Which options take a value is the one table below; a unit test checks it against run.ts.
 * Pure, and imports nothing: it runs before anything else is loaded.
 */

/** Every option of `tsbox run` (and the common ones) that takes a value: long name, short letter. */
export const RUN_VALUE_OPTIONS: ReadonlyArray<readonly [long: string, short?: string]> = [
  ['env', 'e'], ['env-file'], ['workdir', 'w'], ['user', 'u'], ['volume', 'v'], ['tmpfs'], ['hostname'],
  ['max-rootfs-size'], ['cap-add'], ['cap-drop'], ['security-opt'], ['memory', 'm'], ['memory-swap'],
  ['memory-reservation'], ['cpus'], ['cpu-weight'], ['cpu-shares', 'c'], ['cpuset-cpus'], ['pids-limit'],
  ['device-read-bps'], ['device-write-bps'], ['cgroup-parent'], ['stats-file'], ['name'],
  ['root'], ['log-level'], ['log-format'], ['label', 'l'], ['label-file'], ['log-opt'],
  ['device'], ['device-cgroup-rule'],
];

/** Options whose value is optional (`--opt[=value]`): commander takes the next argument as the value unless it starts with '-'. */
export const RUN_OPTIONAL_VALUE_OPTIONS: readonly string[] = ['read-only-tmpfs'];

export interface RunArgv {
  detach: boolean;
  help: boolean;
  /** -t given (true), --no-tty given (false), or neither. */
  tty: boolean | undefined;
  /** The last --cgroup-parent, as commander keeps the last value of a single-valued option. */
  cgroupParent: string | undefined;
}

const LONG_WITH_VALUE = new Set(RUN_VALUE_OPTIONS.map(([long]) => long));
const SHORT_WITH_VALUE = new Set(RUN_VALUE_OPTIONS.flatMap(([, short]) => (short ? [short] : [])));
const LONG_WITH_OPTIONAL_VALUE = new Set(RUN_OPTIONAL_VALUE_OPTIONS);

/** `args` starts after "run". */
export function scanRunArgs(args: readonly string[]): RunArgv {
  const out: RunArgv = { detach: false, help: false, tty: undefined, cgroupParent: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const takesNext = LONG_WITH_VALUE.has(name) || (LONG_WITH_OPTIONAL_VALUE.has(name) && args[i + 1] !== undefined && !args[i + 1]!.startsWith('-'));
      const value = eq >= 0 ? a.slice(eq + 1) : takesNext ? args[++i] : undefined;
      if (name === 'detach') out.detach = true;
      else if (name === 'help') out.help = true;
      else if (name === 'tty') out.tty = true;
      else if (name === 'no-tty') out.tty = false;
      else if (name === 'cgroup-parent') out.cgroupParent = value;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // Combined short flags: the first one that takes a value takes the rest, or the next argument.
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (SHORT_WITH_VALUE.has(c)) {
          if (j === a.length - 1) i++;
          break;
        }
        if (c === 'd') out.detach = true;
        else if (c === 'h') out.help = true;
        else if (c === 't') out.tty = true;
      }
      continue;
    }
    break; // ROOTFS: the rest is the container's command
  }
  return out;
}
