/**
 * podman and docker take their global flags before the command (`podman --root DIR ps`);
 * tsbox's commands each accept the common flags (run-flags.ts COMMON_FLAGS). The common flags
 * given before the command are moved after its name, so both orders mean the same. Pure, and
 * imports only the flag table: it runs before the CLI is loaded.
 */
import { COMMON_FLAGS } from './run-flags.js';

const VALUE = new Map(COMMON_FLAGS.map((row) => [row.long, row.value !== 'none']));

/**
 * `args` without node and the script: ["--root", "/x", "ps", "-a"] -> ["ps", "--root", "/x", "-a"].
 * `subcommandsOf(name)`: the subcommands of a command (`network` -> ls, rm...), whose own
 * flags come after the subcommand.
 */
export function hoistCommonFlags(args: readonly string[], subcommandsOf: (command: string) => readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < args.length && args[i]!.startsWith('--')) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const takesValue = VALUE.get(a.slice(2, eq < 0 ? undefined : eq));
    if (takesValue === undefined) break; // not a common flag (--help, --version, unknown): commander answers
    if (takesValue && eq < 0) {
      if (i + 1 >= args.length) break; // `--root` with nothing after: commander says what is missing
      leading.push(a, args[i + 1]!);
      i += 2;
    } else {
      leading.push(a);
      i += 1;
    }
  }
  if (leading.length === 0 || i >= args.length || args[i]!.startsWith('-')) return [...args];
  // A command with subcommands (`network ls`, `image inspect`) takes the flags after the last of them.
  const command = [args[i]!];
  i += 1;
  while (i < args.length && subcommandsOf(command[command.length - 1]!).includes(args[i]!)) command.push(args[i++]!);
  return [...command, ...leading, ...args.slice(i)];
}
