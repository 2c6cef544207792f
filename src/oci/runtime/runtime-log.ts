/**
 * --log FILE / --log-format text|json / --debug: where tsbox-runtime writes what engines
 * read back. containerd and podman take the last {"level":"error","msg":...} line of the
 * file as the failure's reason; every error also goes to stderr (conmon shows that).
 * A Logger (log.ts's interface) over the same file, so tsbox's modules log into it.
 */
import { appendFileSync } from 'node:fs';
import { asTsboxError } from '../../errors.js';
import type { Logger, LogLevel } from '../../log.js';

export type LogFormat = 'text' | 'json';

const ORDER: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export interface RuntimeLog extends Logger {
  /** The one line of a failed command: stderr, and the log file. */
  failure(err: unknown): void;
}

export function openRuntimeLog(file: string | undefined, format: LogFormat, debug: boolean, bindings: object = {}): RuntimeLog {
  const level: LogLevel = debug ? 'debug' : 'warn';
  const line = (l: LogLevel, fields: object, msg: string) => {
    if (file === undefined || ORDER[l] < ORDER[level]) return;
    const time = new Date().toISOString();
    const all = { ...bindings, ...fields };
    const text = format === 'json'
      ? JSON.stringify({ level: l, msg, time, ...all })
      : `time="${time}" level=${l} msg=${JSON.stringify(msg)}${Object.entries(all).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('')}`;
    try {
      appendFileSync(file, `${text}\n`);
    } catch {
      // a log that cannot be written must not turn success into failure
    }
  };
  const log: RuntimeLog = {
    level,
    enabled: (l) => ORDER[l] >= ORDER[level],
    trace: (f, m) => line('trace', f, m),
    debug: (f, m) => line('debug', f, m),
    info: (f, m) => line('info', f, m),
    warn: (f, m) => line('warn', f, m),
    error: (f, m) => line('error', f, m),
    child: (more) => openRuntimeLog(file, format, debug, { ...bindings, ...more }),
    failure(err) {
      const msg = renderError(err);
      process.stderr.write(`tsbox-runtime: ${msg}\n`);
      line('error', {}, msg);
    },
  };
  return log;
}

/** `<step>: <what>. <hint>` on one line, as tsbox renders its errors. */
export function renderError(err: unknown): string {
  const e = asTsboxError(err);
  const head = e.step ? `${e.step}: ${e.message}` : e.message;
  const text = e.hint ? `${head}. ${e.hint}` : head;
  return text.replace(/\s*\n\s*/g, ' ');
}
