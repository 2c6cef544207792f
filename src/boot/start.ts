/**
 * How every tsbox program starts (bundled as dist/start.cjs): bin/tsbox calls
 * startProgram('tsbox'); tsbox spawns its init as `node dist/start.cjs init` and the
 * exec-init as `node dist/start.cjs exec-init`.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProgram, PROGRAMS, writeCodeCache, type ProgramName } from './programs.js';

/** dist/, where this file's bundle sits beside the programs' bundles. */
const distDir = dirname(fileURLToPath(import.meta.url));

export function startProgram(name: string): unknown {
  if (!(PROGRAMS as readonly string[]).includes(name)) throw new Error(`unknown tsbox program '${name}' (one of: ${PROGRAMS.join(', ')})`);
  return loadProgram(distDir, name as ProgramName).exports.start();
}

export function codeCacheState(name: ProgramName): string {
  return loadProgram(distDir, name).codeCache;
}

export function buildCodeCache(name: ProgramName): Promise<number> {
  return writeCodeCache(distDir, name);
}

// `node dist/start.cjs NAME`: run as a program, not required as a module.
if (typeof require !== 'undefined' && require.main === module) startProgram(process.argv[2] ?? '');
