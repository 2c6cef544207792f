/**
 * Where dist/start.cjs is, seen from the running code: the CLI's bundle sits beside it
 * (dist/tsbox.cjs), tsc's per-file output used as a library one level down (dist/boot/).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TsboxError } from '../errors.js';
import type { ProgramName } from './programs.js';

let startScript: string | undefined;

/** node's arguments that start program `name` (the init or the exec-init). */
export function programArgs(name: Exclude<ProgramName, 'tsbox'>): string[] {
  startScript ??= locateStartScript();
  return [startScript, name];
}

function locateStartScript(): string {
  for (const rel of ['./start.cjs', '../start.cjs']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new TsboxError('cannot find dist/start.cjs, which starts the container init', { hint: "Run 'npm run build'." });
}
