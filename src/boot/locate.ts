/**
 * Where dist/start.cjs is, seen from the running code: the CLI's bundle sits beside it
 * (dist/tsbox.cjs), tsc's per-file output used as a library one level down (dist/boot/).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TsboxError } from '../errors.js';
import { PROGRAM_NODE_FLAGS, type ProgramName } from './programs.js';

let startScript: string | undefined;

/** node's arguments that start program `name` (the init, the exec-init, the monitor). */
export function programArgs(name: Exclude<ProgramName, 'tsbox'>): string[] {
  startScript ??= locateStartScript();
  return [...PROGRAM_NODE_FLAGS[name], startScript, name];
}

function locateStartScript(): string {
  for (const rel of ['./start.cjs', '../start.cjs']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new TsboxError("cannot find dist/start.cjs, which starts tsbox's init and monitor programs", { hint: "Run 'npm run build'." });
}
