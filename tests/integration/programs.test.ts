/**
 * The build (scripts/bundle.mjs): each program loads from its bundle with the V8 code
 * cache written beside it. A rejected cache still works but costs every start its compile
 * time, so the suite fails when the build writes one that V8 will not take.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const startScript = fileURLToPath(new URL('../../dist/start.cjs', import.meta.url));

describe('programs', () => {
  const start = createRequire(import.meta.url)(startScript) as { programNodeFlags(name: string): string[] };
  for (const program of ['tsbox', 'init', 'exec-init', 'monitor']) {
    it(`${program}: V8 accepts the code cache written by the build`, () => {
      // As tsbox starts its programs: node with the program's own flags, no NODE_OPTIONS.
      const flags = start.programNodeFlags(program);
      const state = execFileSync(process.execPath, [...flags, '-e', `process.stdout.write(require(${JSON.stringify(startScript)}).codeCacheState(${JSON.stringify(program)}))`], { env: { PATH: process.env.PATH ?? '' } }).toString();
      expect(state).toBe('accepted');
    });
  }

  for (const program of ['tsbox', 'init']) {
    it(`${program}: starts without koffi's loader and without crypto, zlib or worker_threads`, () => {
      // What a warm `tsbox run` loads: the program and, for the CLI, its lazily imported part
      // walked as a default run (scripts/bundle.mjs says why each of these is left out).
      const script = `
        import(${JSON.stringify(new URL('../../dist/boot/programs.js', import.meta.url).href)}).then(async ({ loadProgram }) => {
          const { exports } = loadProgram(${JSON.stringify(fileURLToPath(new URL('../../dist', import.meta.url)))}, ${JSON.stringify(program)});
          if (exports.prepareCodeCache) await exports.prepareCodeCache();
          process.stdout.write(JSON.stringify({
            builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
            files: Object.keys(require.cache),
          }));
        });
      `;
      const out = JSON.parse(execFileSync(process.execPath, [...start.programNodeFlags(program), '-e', script], { env: { PATH: process.env.PATH ?? '' } }).toString()) as { builtins: string[]; files: string[] };
      expect(out.builtins).not.toContain('crypto');
      expect(out.builtins).not.toContain('zlib');
      expect(out.builtins).not.toContain('worker_threads');
      expect(out.files.filter((f) => f.endsWith('koffi.node'))).toHaveLength(1);
      expect(out.files.filter((f) => /[\\/]koffi[\\/](index|src)/.test(f))).toEqual([]);
    });
  }

  it('an unknown program name is an error, not a silent start', () => {
    expect(() => execFileSync(process.execPath, [startScript, 'nope'], { stdio: 'pipe' })).toThrow(/unknown tsbox program 'nope'/);
  });

  it('a run whose early init does not fit (stdin from the rootfs pipe) still runs', async () => {
    // `-` reads the rootfs from stdin: the init must not inherit it, so the early one is replaced.
    const { readFileSync } = await import('node:fs');
    const r = await tsbox(['run', '-', 'echo', 'replaced'], { input: readFileSync(rootfsTar()) });
    expect(r.stdout).toBe('replaced\n');
    expect(r.code).toBe(0);
  });
});
