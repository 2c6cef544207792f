/**
 * A detached container's monitor (dist/monitor.cjs, started by runtime/detach.ts through
 * dist/start.cjs). Its own program, not the CLI's: the monitor stays resident for the container's whole life, and
 * every module it loads is heap it keeps. It needs the run story, not commander, the
 * option schema or the other commands.
 */
import { createLogger } from '../log.js';
import { runMonitor } from './detach.js';

export function start(): Promise<never> {
  return runMonitor((spec) => createLogger(spec.log.level, spec.log.format, { container: spec.shortId }, spec.log.explain)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      // Before the container could start (a broken channel, an unreadable record): the front end
      // sees us exit and points the user at monitor.log, our stderr.
      process.stderr.write(`tsbox monitor: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(125);
    },
  );
}
