/** Options every tsbox command accepts. */
import { Option, type Command } from 'commander';

export interface CommonOptions {
  root?: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFormat: 'json' | 'pretty';
  debug: boolean;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--root <dir>', 'state root: image cache and containers (default $TSBOX_ROOT or /var/lib/tsbox)')
    .addOption(new Option('--log-level <level>', 'runtime log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('warn'))
    .addOption(new Option('--log-format <format>', 'runtime log format').choices(['json', 'pretty']).default('json'))
    .option('--debug', 'log every setup step with its syscalls and arguments', false);
}

/** Repeatable options (-e A -e B) collect into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
