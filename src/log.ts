/**
 * The runtime's logger: pino on stderr. pino is loaded only when a message at an enabled
 * level is first written, so the default run (level warn, nothing to say) does not pay
 * for loading it on every container start.
 */
import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';
import { loadExplainer, type ExplainSink } from './explain/load.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'pretty';
/** --explain: each setup step explained on stderr (src/explain), as text or JSON lines. */
export type ExplainFormat = 'text' | 'json';

const order: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  trace(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  child(bindings: object): Logger;
}

const require = createRequire(import.meta.url);

function createPino(level: LogLevel, format: LogFormat): PinoLogger {
  const pino = require('pino') as typeof import('pino');
  if (format === 'pretty') {
    // Synchronous pretty stream: logs must interleave correctly with the container's own output.
    const pretty = require('pino-pretty') as { default: (options: object) => NodeJS.WritableStream };
    return pino.default({ level, base: undefined }, pretty.default({ destination: 2, sync: true, colorize: process.stderr.isTTY, ignore: 'pid,hostname' }));
  }
  return pino.default({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));
}

/**
 * With `explain`, every record at debug and above also goes to the explainer (src/explain,
 * its own bundle, loaded only then); pino still gets what `level` lets through, so
 * `--debug --explain=json` gives both on stderr.
 */
export function createLogger(level: LogLevel = 'warn', format: LogFormat = 'json', bindings: object = {}, explain?: ExplainFormat): Logger {
  if (explain) return explainingLogger(createLogger(level, format, bindings), explainSink(explain), bindings);
  let real: PinoLogger | undefined;
  const get = (): PinoLogger => (real ??= Object.keys(bindings).length ? createPino(level, format).child(bindings) : createPino(level, format));
  const at = (l: LogLevel) => (fields: object, msg: string) => {
    if (order[l] >= order[level]) get()[l as 'info'](fields, msg);
  };
  return {
    level,
    enabled: (l) => order[l] >= order[level],
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => createLogger(level, format, { ...bindings, ...more }),
  };
}

let sink: ExplainSink | undefined;
/** One explainer per process: every logger of the run (and its children) feeds the same steps. */
function explainSink(format: ExplainFormat): ExplainSink {
  return (sink ??= loadExplainer().createExplainSink(format));
}

/** Write --explain's open step now (before an error line); nothing without --explain. */
export function endExplain(): void {
  sink?.end();
}

function explainingLogger(inner: Logger, to: ExplainSink, bindings: object): Logger {
  const at = (l: LogLevel) => (fields: object, msg: string) => {
    inner[l as 'info'](fields, msg);
    // Errors are the error line's to say (render-error.ts), not a step's.
    if (order[l] >= order.debug && l !== 'error') to.record({ ...bindings, ...fields }, msg);
  };
  return {
    level: inner.level,
    enabled: (l) => order[l] >= order.debug || inner.enabled(l),
    trace: (fields, msg) => inner.trace(fields, msg),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => explainingLogger(inner.child(more), to, { ...bindings, ...more }),
  };
}

/** A logger that drops everything, for tests and library callers who pass none. */
export const silentLogger: Logger = createLogger('silent');
