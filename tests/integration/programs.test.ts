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
