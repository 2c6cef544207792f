/**
 * The one place errors become output: a single line on stderr,
 *   tsbox: <step>: <what failed>. <hint>
 * and the exit status that goes with it (125 for tsbox's own failures, 126/127 for the
 * command, 128+N for a signal). Written with writeSync to fd 2: touching process.stderr
 * would make Node switch the shared descriptor to non-blocking under the container.
 */
import { writeSync } from 'node:fs';
import { asTsboxError, type TsboxError } from '../errors.js';
import { endExplain } from '../log.js';

export function formatError(err: TsboxError): string {
  const step = err.step ? `${err.step}: ` : '';
  const message = err.message.replace(/\s*\n\s*/g, ' ').replace(/[.\s]+$/, '');
  const hint = err.hint ? ` ${err.hint}` : '';
  return `tsbox: ${step}${message}.${hint}`;
}

export function reportError(err: unknown): number {
  const e = asTsboxError(err);
  endExplain(); // --explain's last step first: the error line stays the last line
  writeLine(2, formatError(e));
  return e.exitCode;
}

export function writeLine(fd: number, line: string): void {
  const data = Buffer.from(`${line}\n`);
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
}
