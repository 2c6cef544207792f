/**
 * The few facts about a `tsbox run` command line that the start-up path needs before the
 * CLI is loaded (namespaces/early-init.ts): detached or not, --help, the terminal flags, and
 * --cgroup-parent and --network. Read with commander's rules for run (run.ts), from run's flag table
 * (run-flags.ts): options come before ROOTFS (passThroughOptions: everything after it is the
 * container's command), a value is either `--opt=value`, `--opt value`, `-X value` or
 * `-Xvalue`, short flags combine (-dit), an optional value is the next argument unless that
 * looks like an option, and a negative number is an argument, not an option.
 * Imports only the table (pure data): it runs before anything else is loaded.
 */
import { ALL_RUN_FLAGS, type FlagValue } from './run-flags.js';

export interface RunArgv {
  detach: boolean;
  help: boolean;
  /** -t given (true), --no-tty given (false), or neither. */
  tty: boolean | undefined;
  /** The last --cgroup-parent, as commander keeps the last value of a single-valued option. */
  cgroupParent: string | undefined;
  /** The last --network (commander keeps the last value); the early init fits only a new netns. */
  network: string | undefined;
  /** The first operand (commander's ROOTFS), if any. */
  rootfs: string | undefined;
  /** --debug or --explain: the early init records the calls that make its namespaces. */
  traced: boolean;
}

const LONG = new Map<string, FlagValue>(ALL_RUN_FLAGS.map((row) => [row.long, row.value]));
const SHORT = new Map<string, FlagValue>(ALL_RUN_FLAGS.flatMap((row) => (row.short ? [[row.short, row.value] as const] : [])));
LONG.set('help', 'none');
SHORT.set('h', 'none');

const takesValue = (kind: FlagValue | undefined): boolean => kind === 'required' || kind === 'repeatable';
/** Whether a flag given without `=value` takes the next argument as its value. */
const takesNext = (kind: FlagValue | undefined, next: string | undefined): boolean =>
  takesValue(kind) || (kind === 'optional' && next !== undefined && !looksLikeOption(next));
const isNegativeNumber = (arg: string): boolean => /^-(\d+|\d*\.\d+)(e[+-]?\d+)?$/.test(arg);
/** commander's test: an argument that looks like an option. */
const looksLikeOption = (arg: string): boolean => arg.length > 1 && arg[0] === '-' && !isNegativeNumber(arg);

/** `args` starts after "run". */
export function scanRunArgs(args: readonly string[]): RunArgv {
  const out: RunArgv = { detach: false, help: false, tty: undefined, cgroupParent: undefined, network: undefined, rootfs: undefined, traced: false };
  const set = (long: string, value: string | undefined): void => {
    if (long === 'detach') out.detach = true;
    else if (long === 'help') out.help = true;
    else if (long === 'tty') out.tty = true;
    else if (long === 'no-tty') out.tty = false;
    else if (long === 'cgroup-parent') out.cgroupParent = value;
    else if (long === 'network') out.network = value;
    else if (long === 'debug' || long === 'explain') out.traced = true;
  };
  const longOf = (short: string): string => (short === 'h' ? 'help' : ALL_RUN_FLAGS.find((row) => row.short === short)!.long);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.rootfs = args[i + 1];
      break;
    }
    if (!looksLikeOption(a)) {
      out.rootfs = a; // ROOTFS: the rest is the container's command
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const kind = LONG.get(name);
      set(name, eq >= 0 ? a.slice(eq + 1) : takesNext(kind, args[i + 1]) ? args[++i] : undefined);
      continue;
    }
    // Combined short flags: the first one that takes a value takes the rest, or the next argument.
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const kind = SHORT.get(c);
      if (kind === undefined) break; // unknown: commander refuses the command line
      if (takesValue(kind) || kind === 'optional') {
        const value = j < a.length - 1 ? a.slice(j + 1) : takesNext(kind, args[i + 1]) ? args[++i] : undefined;
        set(longOf(c), value);
        break;
      }
      set(longOf(c), undefined);
    }
  }
  return out;
}
