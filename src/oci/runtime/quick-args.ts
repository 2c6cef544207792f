/**
 * The engine calls that tsbox-runtime answers without its full command line (quick-main.ts):
 * `start`, `state`, `kill`, `delete`, `pause`, `resume`, exactly as podman, conmon,
 * containerd's shim and CRI-O spell them. Pure.
 *
 * This is not a second parser of runc's interface: it recognizes one plain form of these
 * calls and declines (null) everything else, which then goes to commander (program.ts)
 * unchanged: help, --version, an unknown or repeated flag, a value that looks like a flag,
 * a wrong number of arguments, any other command. So a call is either read here into the
 * very options commander would have produced, or commander reads it and says what is wrong.
 */
import { DEFAULT_STATE_ROOT } from './state-dir.js';
import type { GlobalOptions } from './program.js';

export type QuickCommand = 'start' | 'state' | 'kill' | 'delete' | 'pause' | 'resume';

export interface QuickCall {
  global: GlobalOptions;
  command: QuickCommand;
  id: string;
  /** kill's SIGNAL argument as given (signal-arg.ts parses it). */
  signal?: string;
  /** kill --all */
  all: boolean;
  /** delete --force */
  force: boolean;
}

/** Global flags that take a value, and the option each sets (program.ts). */
const GLOBAL_VALUE: Record<string, 'root' | 'log' | 'logFormat' | 'cgroupManager' | null> = {
  '--root': 'root',
  '--log': 'log',
  '--log-format': 'logFormat',
  '--cgroup-manager': 'cgroupManager',
  // accepted and ignored, as program.ts does
  '--criu': null,
  '--rootless': null,
};
const GLOBAL_SWITCH: Record<string, 'debug' | 'systemdCgroup'> = { '--debug': 'debug', '--systemd-cgroup': 'systemdCgroup' };

/** Each command's own switches (its flags with no value), by spelling. */
const COMMAND_SWITCH: Record<QuickCommand, Record<string, 'all' | 'force'>> = {
  start: {},
  state: {},
  kill: { '-a': 'all', '--all': 'all' },
  delete: { '-f': 'force', '--force': 'force' },
  pause: {},
  resume: {},
};
/** How many arguments each takes: [required, at most]. */
const ARITY: Record<QuickCommand, [number, number]> = { start: [1, 1], state: [1, 1], kill: [1, 2], delete: [1, 1], pause: [1, 1], resume: [1, 1] };

/** `args`: the arguments after node and the script (process.argv.slice(2)). */
export function parseQuickArgs(args: readonly string[]): QuickCall | null {
  const global: GlobalOptions = { root: DEFAULT_STATE_ROOT, logFormat: 'text', debug: false, systemdCgroup: false };
  const seen = new Set<string>();
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (seen.has(name)) return null;
    seen.add(name);
    if (Object.hasOwn(GLOBAL_SWITCH, name)) {
      if (name !== arg) return null;
      global[GLOBAL_SWITCH[name]!] = true;
      continue;
    }
    if (!Object.hasOwn(GLOBAL_VALUE, name)) return null;
    let value: string | undefined;
    if (name !== arg) value = arg.slice(eq + 1);
    else value = args[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return null;
    const key = GLOBAL_VALUE[name];
    if (key === 'logFormat') {
      if (value !== 'text' && value !== 'json') return null;
      global.logFormat = value;
    } else if (key !== null && key !== undefined) {
      global[key] = value;
    }
  }
  const command = args[i++];
  if (command === undefined || !Object.hasOwn(COMMAND_SWITCH, command)) return null;
  const cmd = command as QuickCommand;
  const positional: string[] = [];
  const flags = { all: false, force: false };
  const seenFlags = new Set<string>();
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const flag = COMMAND_SWITCH[cmd][arg];
    if (flag === undefined || seenFlags.has(flag)) return null;
    seenFlags.add(flag);
    flags[flag] = true;
  }
  const [min, max] = ARITY[cmd];
  if (positional.length < min || positional.length > max) return null;
  const [id, signal] = positional as [string, string | undefined];
  return { global, command: cmd, id, ...(signal !== undefined ? { signal } : {}), ...flags };
}
