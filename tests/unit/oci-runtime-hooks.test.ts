/**
 * config.json's hooks as tsbox-runtime runs them: the runtime's runner (prestart,
 * createRuntime, poststart, poststop) and the init's (createContainer, startContainer), on
 * real sh scripts: the order, exactly the args and env given, the state JSON on stdin, the
 * failure rules of each phase, and a timeout that kills the hook with what it started.
 * The lifecycle points themselves (before pivot_root, in which namespace) are checked on a
 * real container by tests/integration/oci-hooks.test.ts.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initHooks } from '../../src/oci/runtime/config-adapter.js';
import { runRuntimeHooks } from '../../src/oci/runtime/run-hooks.js';
import type { RuntimeLog } from '../../src/oci/runtime/runtime-log.js';
import { parseRecord } from '../../src/oci/runtime/record.js';
import { describeHookFailure, NO_HOOKS, type HookCommand, type HooksPlan } from '../../src/oci/spec/hooks.js';
import { runHookSync } from '../../src/init/run-hooks.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbox-oci-hooks-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, 'out');

/** A hook script: appends "<name> <args> X=$X <stdin>" to `out`, then does `then`. */
function script(name: string, then = 'exit 0'): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho "${name} $* X=$X $(cat)" >> ${out}\n${then}\n`);
  chmodSync(path, 0o755);
  return path;
}
const hook = (path: string, more: Partial<HookCommand> = {}): HookCommand => ({ path, args: [path], env: [], timeoutSeconds: null, ...more });
const plan = (p: Partial<HooksPlan>): HooksPlan => ({ ...NO_HOOKS, ...p });
const state = { id: 'c1', pid: 4242, bundle: '/b', annotations: { a: 'b' } };

function memoryLog(): RuntimeLog & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (_f: object, m: string) => void lines.push(`${level} ${m}`);
  return { lines, level: 'debug', enabled: () => true, trace: rec('trace'), debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error'), child() { return this; }, failure() {} } as unknown as RuntimeLog & { lines: string[] };
}
const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []);
const reset = () => rmSync(out, { force: true });

describe('the runtime\'s hooks', () => {
  it('run in order, with their args and env only, the state with the phase\'s status on stdin', async () => {
    reset();
    const a = script('a');
    const b = script('b');
    await runRuntimeHooks(plan({ createRuntime: [hook(a, { args: ['a', 'one', 'two'], env: ['X=1'] }), hook(b)] }), 'createRuntime', state, memoryLog());
    expect(lines()).toEqual([
      'a one two X=1 {"ociVersion":"1.0.2","id":"c1","status":"creating","pid":4242,"bundle":"/b","annotations":{"a":"b"}}',
      'b  X= {"ociVersion":"1.0.2","id":"c1","status":"creating","pid":4242,"bundle":"/b","annotations":{"a":"b"}}',
    ]);
    reset();
    await runRuntimeHooks(plan({ poststop: [hook(a)] }), 'poststop', { ...state, pid: null }, memoryLog());
    // stopped: no pid
    expect(lines()).toEqual(['a  X= {"ociVersion":"1.0.2","id":"c1","status":"stopped","bundle":"/b","annotations":{"a":"b"}}']);
  });

  it('an error phase stops at the first failure, naming the hook and what it said', async () => {
    reset();
    const bad = script('bad', 'echo "no network for you" >&2; exit 3');
    const after = script('after');
    await expect(runRuntimeHooks(plan({ prestart: [hook(bad), hook(after)] }), 'prestart', state, memoryLog()))
      .rejects.toThrow(`hooks.prestart[0] (${bad}) exited with status 3: no network for you`);
    expect(lines().map((l) => l.split(' ')[0])).toEqual(['bad']);
  });

  it('a warning phase logs the failure and runs the next hook', async () => {
    reset();
    const bad = script('bad2', 'exit 1');
    const after = script('after2');
    const log = memoryLog();
    await runRuntimeHooks(plan({ poststart: [hook(bad), hook(after)] }), 'poststart', state, log);
    expect(lines().map((l) => l.split(' ')[0])).toEqual(['bad2', 'after2']);
    expect(log.lines).toContain(`warn hooks.poststart[0] (${bad}) exited with status 1`);
  });

  it('a missing program fails as "could not be started"', async () => {
    await expect(runRuntimeHooks(plan({ createRuntime: [hook(join(dir, 'nope'))] }), 'createRuntime', state, memoryLog()))
      .rejects.toThrow(`hooks.createRuntime[0] (${join(dir, 'nope')}) could not be started (ENOENT)`);
  });

  it('a timeout kills the hook and what it started', async () => {
    reset();
    const pidFile = join(dir, 'sleeper.pid');
    const slow = script('slow', `sleep 300 & echo $! > ${pidFile}; wait`);
    await expect(runRuntimeHooks(plan({ createRuntime: [hook(slow, { timeoutSeconds: 1 })] }), 'createRuntime', state, memoryLog()))
      .rejects.toThrow(`hooks.createRuntime[0] (${slow}) did not finish within its timeout of 1s and was killed`);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    // Its whole process group got SIGKILL: the sleep is gone (or a zombie until reaped).
    const gone = () => !existsSync(`/proc/${sleeper}`) || /\) Z /.test(readFileSync(`/proc/${sleeper}/stat`, 'utf8'));
    for (let i = 0; i < 500 && !gone(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(gone()).toBe(true);
  });
});

describe('the init\'s hooks (spawnSync)', () => {
  it('gets its args, env and stdin; a failure and a timeout are described', () => {
    reset();
    const a = script('ia');
    expect(runHookSync(hook(a, { args: ['ia', 'x'], env: ['X=2'] }), 'STATE')).toEqual({ kind: 'exit', status: 0, stderr: '' });
    expect(lines()).toEqual(['ia x X=2 STATE']);
    const slow = hook(script('islow', 'sleep 300'), { timeoutSeconds: 1 });
    const outcome = runHookSync(slow, '');
    expect(outcome).toEqual({ kind: 'timeout', seconds: 1 });
    expect(describeHookFailure('createContainer', 2, slow, outcome)).toBe(`hooks.createContainer[2] (${slow.path}) did not finish within its timeout of 1s and was killed`);
    expect(runHookSync(hook(join(dir, 'nope')), '')).toEqual({ kind: 'spawn', code: 'ENOENT' });
  });
});

describe('what the init is told (initHooks)', () => {
  it('nothing when no phase needs the init', () => {
    expect(initHooks(plan({ poststart: [hook('/p')], poststop: [hook('/q')] }), state)).toBeNull();
  });
  it('a stop after the mounts for prestart/createRuntime; each container phase with its status on stdin', () => {
    const h = initHooks(plan({ createRuntime: [hook('/r')], startContainer: [hook('/s')] }), state)!;
    expect(h.runtimePoint).toBe(true);
    expect(h.createContainer).toEqual([]);
    expect(h.startContainer).toEqual([hook('/s')]);
    expect(JSON.parse(h.stdin.createContainer)).toMatchObject({ status: 'creating', pid: 4242 });
    expect(JSON.parse(h.stdin.startContainer)).toMatchObject({ status: 'created', pid: 4242 });
    expect(initHooks(plan({ createContainer: [hook('/c')] }), state)!.runtimePoint).toBe(false);
  });
});

describe('the state record', () => {
  it('keeps poststart and poststop for start and delete', () => {
    const record = { ociVersion: '1.0.2', id: 'c1', bundle: '/b', rootfs: '/b/rootfs', pid: 5, pidStartTime: '1', created: 'now', cgroup: null, cgroupParents: [], annotations: {}, terminal: false };
    const hooks = { poststart: [hook('/p')], poststop: [hook('/q', { timeoutSeconds: 5 })] };
    expect(parseRecord({ ...record, hooks })?.hooks).toEqual(hooks);
    expect(parseRecord({ ...record, hooks: { poststart: [{ path: 'rel', args: ['x'], env: [], timeoutSeconds: null }], poststop: [] } })).toBeNull();
  });
});
