/**
 * How every tsbox program starts (bundled as dist/start.cjs): bin/tsbox calls
 * startProgram('tsbox'); tsbox spawns the others as `node [flags] dist/start.cjs NAME`
 * (boot/locate.ts).
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProgram, PROGRAM_NODE_FLAGS, PROGRAMS, writeCodeCache, type ProgramName } from './programs.js';

/** dist/, where this file's bundle sits beside the programs' bundles. */
const distDir = dirname(fileURLToPath(import.meta.url));

export function startProgram(name: string): unknown {
  if (!(PROGRAMS as readonly string[]).includes(name)) throw new Error(`unknown tsbox program '${name}' (one of: ${PROGRAMS.join(', ')})`);
  ignoreInspectorSignal();
  return loadProgram(distDir, name as ProgramName).exports.start();
}

/**
 * Node starts its inspector (a debugger that evaluates any JavaScript sent to it, listening
 * on 127.0.0.1:9229 of the process's network namespace) when it receives SIGUSR1, unless a
 * listener for SIGUSR1 exists; Node 20 has no --disable-sigusr1. No tsbox program may ever
 * be taken over that way: each installs a listener before anything else runs. Programs that
 * forward SIGUSR1 (run, exec) add their own listener beside this one.
 */
function ignoreInspectorSignal(): void {
  process.on('SIGUSR1', () => {});
}

export function codeCacheState(name: ProgramName): string {
  return loadProgram(distDir, name).codeCache;
}

/** For the build: the flags to start node with when making `name`'s code cache. */
export function programNodeFlags(name: ProgramName): readonly string[] {
  return PROGRAM_NODE_FLAGS[name];
}

export function buildCodeCache(name: ProgramName): Promise<number> {
  return writeCodeCache(distDir, name);
}

// `node dist/start.cjs NAME`: run as a program, not required as a module.
if (typeof require !== 'undefined' && require.main === module) startProgram(process.argv[2] ?? '');
