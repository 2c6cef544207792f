/**
 * What each engine call of tsbox-runtime pays before it does anything (issue #14's per-call
 * cost): the small calls are answered by dist/runtime-quick.cjs, without commander, zod or
 * the spec translator; Node does not load an extra CA bundle; a record that is not one is
 * still refused on that path.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_BIN } from '../helpers/oci-engines.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbox-oci-quick-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runtime = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(RUNTIME_BIN, ['--root', join(dir, 'state'), ...args], { encoding: 'utf8', env, timeout: 30_000 });

describe('tsbox-runtime per call', () => {
  it('does not make Node load NODE_EXTRA_CA_CERTS (it makes no TLS connection)', () => {
    // Node reads the file at its start, before any script, and warns when it cannot: a file
    // that does not exist shows whether the runtime's node was given the variable.
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'no-such-ca.pem') };
    for (const args of [['--version'], ['state', 'nope'], ['features']]) {
      const r = runtime(args, env);
      expect(r.stderr).not.toMatch(/extra certs/i);
    }
  });

  it('answers state, start, kill and delete from a bundle without commander and zod', () => {
    const dist = join(import.meta.dirname, '../../dist');
    const quick = readFileSync(join(dist, 'runtime-quick.cjs'), 'utf8');
    const full = readFileSync(join(dist, 'runtime.cjs'), 'utf8');
    // The markers are in the full program (so the check can fail) and not in the quick one.
    for (const marker of ['CommanderError', 'ZodError']) {
      expect(full).toContain(marker);
      expect(quick).not.toContain(marker);
    }
    expect(readFileSync(RUNTIME_BIN, 'utf8')).toContain("startProgram('runtime-quick')");
  });

  it('refuses a damaged record on the quick path, and delete --force removes it', () => {
    const state = join(dir, 'state', 'broken');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'state.json'), JSON.stringify({ id: 'broken', pid: 'not a pid' }));
    const r = runtime(['state', 'broken']);
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toEqual([`tsbox-runtime: state: the state of container broken is damaged (${join(state, 'state.json')}). delete --force removes it.`]);
    expect(runtime(['kill', 'broken', '9']).stderr).toContain('is damaged');
    expect(runtime(['delete', '--force', 'broken']).status).toBe(0);
    expect(runtime(['state', 'broken']).stderr).toContain('container broken does not exist');
  });

  it('hands every other call to the full program unchanged', () => {
    expect(runtime(['--version']).stdout).toMatch(/^tsbox-runtime version /);
    const bad = runtime(['kill', '-af', 'x']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/unknown option '-af'|unknown option/);
    expect(JSON.parse(runtime(['features']).stdout)).toHaveProperty('ociVersionMax');
  });
});
