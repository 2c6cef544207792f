/**
 * tsbox's programs: the CLI (bin/tsbox), the container's init, the exec-init and a detached
 * container's monitor. Each is
 * one CommonJS bundle in dist/ (scripts/bundle.mjs) whose module exports `start()`.
 *
 * Why not plain `node dist/x.mjs`: a run starts two Node processes (tsbox and the init),
 * and each spent ~10 ms parsing and compiling its bundle. V8's code cache, written at
 * build time next to each bundle, lets the compile be skipped. Node 20 has no code cache
 * for ES modules, hence CommonJS and vm.Script. V8 checks the cache itself (its version,
 * flags and the source's hash) and falls back to compiling when it does not match, so a
 * stale or missing cache costs time, never correctness.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

export const PROGRAMS = ['tsbox', 'init', 'exec-init', 'monitor', 'runtime', 'runtime-quick'] as const;
export type ProgramName = (typeof PROGRAMS)[number];

/**
 * The node flags a program is started with. V8 takes a code cache only under the flags it
 * was made with, so the build makes each program's cache under these.
 * The monitor stays resident for a detached container's life: --expose-gc lets it collect
 * setup's garbage once the container runs, and a 1 MB semi-space (V8 lets the young
 * generation grow to 16 MB) keeps about 1 MB less resident (runtime/monitor-memory.ts).
 * The init and the exec-init run one short straight-line program on a small heap: one V8
 * worker thread instead of four (Node's default) is all they need, starts faster, and makes
 * each setuid/setgid/setgroups cheaper, which glibc applies to every thread of the process
 * by signalling each one and waiting for it (three such calls before the command starts).
 */
export const PROGRAM_NODE_FLAGS: Record<ProgramName, readonly string[]> = {
  tsbox: [],
  init: ['--v8-pool-size=1'],
  'exec-init': ['--v8-pool-size=1'],
  monitor: ['--expose-gc', '--max-semi-space-size=1'],
  runtime: [],
  'runtime-quick': [],
};

export interface Program {
  /** The bundle's exports; every program has start(). */
  exports: { start(): unknown } & Record<string, unknown>;
  /** What V8 made of the code cache: 'missing' (no file) or 'rejected' (stale) means compiled from source. */
  codeCache: 'accepted' | 'rejected' | 'missing';
  script: Script;
}

export const bundlePath = (distDir: string, name: ProgramName): string => join(distDir, `${name}.cjs`);
export const codeCachePath = (distDir: string, name: ProgramName): string => join(distDir, `${name}.v8-cache`);

export function loadProgram(distDir: string, name: ProgramName): Program {
  const file = bundlePath(distDir, name);
  const source = readFileSync(file, 'utf8');
  const cachedData = readOptional(codeCachePath(distDir, name));
  // The same wrapper Node gives a CommonJS file, so the bundle sees require, module, __filename.
  const script = new Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} as Program['exports'] };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, distDir);
  const codeCache = cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'accepted';
  return { exports: module.exports, codeCache, script };
}

/**
 * Build step: load the program (its modules' top-level code runs, nothing starts) and
 * save V8's code for everything compiled so far. Must run in a node started without
 * flags, as tsbox's programs are, or V8 rejects the cache.
 */
export async function writeCodeCache(distDir: string, name: ProgramName): Promise<number> {
  const { script, exports } = loadProgram(distDir, name);
  // A program that imports part of itself lazily evaluates that part here, so its code is cached too.
  if (typeof exports.prepareCodeCache === 'function') await (exports.prepareCodeCache as () => Promise<void>)();
  const data = script.createCachedData();
  const path = codeCachePath(distDir, name);
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
  return data.length;
}

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
