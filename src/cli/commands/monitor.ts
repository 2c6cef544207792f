/** tsbox __monitor: hidden; the process that waits for a detached container (runtime/detach.ts). */
import { Command } from 'commander';
import { createLogger } from '../../log.js';
import { runMonitor } from '../../runtime/detach.js';

export function monitorCommand(): Command {
  return new Command('__monitor').description('internal: wait for a detached container').action(async () => {
    process.exitCode = await runMonitor((spec) => createLogger(spec.log.level, spec.log.format, { container: spec.shortId }));
  });
}
