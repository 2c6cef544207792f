/**
 * config.json's hooks on a real container, as tsbox-runtime runs them for an engine: every
 * phase is a small sh script appending one line to the same file (the phase, the mount
 * namespace it ran in, the state JSON it read on stdin), so the file's order is the order
 * they ran in. The runtime's phases must run in the runtime's (our) mount namespace, the
 * container's in the container's; each gets its phase's status and the init's pid. A hook
 * that overruns its timeout fails create with one line and leaves nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxRootfs, cgroupsNamed, RUNTIME_BIN } from '../helpers/oci-engines.js';

let dir: string;
let rootfs: string;
let stateRoot: string;
let logFile: string;
let ids = 0;
let calls = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbox-oci-hooks-'));
  stateRoot = join(dir, 'state');
  logFile = join(dir, 'log.json');
  rootfs = busyboxRootfs(join(dir, 'rootfs'));
  symlinkSync('busybox', join(rootfs, 'bin/readlink'));
});

afterAll(() => {
  for (const id of existsSync(stateRoot) ? readdirSync(stateRoot) : []) runtime(['delete', '--force', id]);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * stdout and stderr to files of this call's own: a created container's init holds what it
 * inherited and may write there later (a failing startContainer hook: its error).
 */
function runtime(args: string[]) {
  const n = ++calls;
  const out = join(dir, `out-${n}`);
  const err = join(dir, `err-${n}`);
  const [o, e] = [openSync(out, 'w'), openSync(err, 'w')];
  try {
    const r = spawnSync(RUNTIME_BIN, ['--root', stateRoot, '--log', logFile, '--log-format', 'json', ...args], { stdio: ['ignore', o, e], timeout: 60_000 });
    return { code: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(o);
    closeSync(e);
  }
}

function bundle(patch: (c: Record<string, any>) => void): string {
  const b = join(dir, `bundle-${++ids}`);
  mkdirSync(b);
  expect(runtime(['spec', '--bundle', b]).code).toBe(0);
  const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  config.root = { path: rootfs, readonly: false };
  config.process.terminal = false;
  patch(config);
  writeFileSync(join(b, 'config.json'), JSON.stringify(config));
  return b;
}

/** A hook script at `path` (on the host, or in the rootfs) appending "<phase> <mnt ns> <stdin>" to `log`. */
function recorder(path: string, phase: string, log: string): void {
  writeFileSync(path, `#!/bin/sh\necho "${phase} $(readlink /proc/self/ns/mnt) $(cat)" >> ${log}\n`);
  chmodSync(path, 0o755);
}

const until = (cond: () => boolean) => {
  for (let i = 0; i < 2000 && !cond(); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  return cond();
};

describe('hooks', () => {
  it('run in the spec\'s order, each where it belongs, with its state on stdin', () => {
    const id = `hooks-${process.pid}`;
    const hostLog = join(rootfs, 'hooks.log'); // the container's /hooks.log
    const host = (phase: string) => {
      const p = join(dir, `${phase}.sh`);
      recorder(p, phase, hostLog);
      return { path: p, env: ['PATH=/usr/bin:/bin'] };
    };
    recorder(join(rootfs, 'start-container.sh'), 'startContainer', '/hooks.log');
    const b = bundle((c) => {
      c.process.args = ['sh', '-c', 'echo "process $(readlink /proc/self/ns/mnt)" >> /hooks.log; exec sleep 300'];
      c.hooks = {
        prestart: [host('prestart')],
        createRuntime: [host('createRuntime')],
        // Its path resolves on the host (the runtime's namespace), it runs in the container's.
        createContainer: [host('createContainer')],
        // Inside the container: its path is the container's.
        startContainer: [{ path: '/start-container.sh', env: ['PATH=/bin'] }],
        poststart: [host('poststart')],
        poststop: [host('poststop')],
      };
    });
    const pidFile = join(b, 'pid');
    const created = runtime(['create', '--bundle', b, '--pid-file', pidFile, id]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const containerNs = readlinkSync(`/proc/${pid}/ns/mnt`);
    const ourNs = readlinkSync('/proc/self/ns/mnt');
    expect(containerNs).not.toBe(ourNs);
    const phases = () => readFileSync(hostLog, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    // Held before exec: startContainer has not run yet.
    expect(phases()).toEqual(['prestart', 'createRuntime', 'createContainer']);

    expect(runtime(['start', id]).code).toBe(0);
    expect(until(() => phases().length === 6)).toBe(true);
    expect(runtime(['kill', id, 'KILL']).code).toBe(0);
    expect(until(() => JSON.parse(runtime(['state', id]).stdout).status === 'stopped')).toBe(true);
    expect(runtime(['delete', id]).code).toBe(0);

    const lines = readFileSync(hostLog, 'utf8').trim().split('\n').map((l) => {
      const [phase, ns, ...json] = l.split(' ');
      return { phase, ns, state: json.length > 0 ? JSON.parse(json.join(' ')) : null };
    });
    // The process and poststart race (poststart runs once the command was released); the rest is ordered.
    expect(lines.map((l) => l.phase).filter((p) => p !== 'process' && p !== 'poststart')).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststop']);
    expect(lines.findIndex((l) => l.phase === 'process')).toBeGreaterThan(lines.findIndex((l) => l.phase === 'startContainer'));
    expect(lines.findIndex((l) => l.phase === 'poststart')).toBeGreaterThan(lines.findIndex((l) => l.phase === 'startContainer'));
    const byPhase = Object.fromEntries(lines.map((l) => [l.phase, l]));
    for (const p of ['prestart', 'createRuntime', 'poststart', 'poststop']) expect(byPhase[p].ns, p).toBe(ourNs);
    for (const p of ['createContainer', 'startContainer', 'process']) expect(byPhase[p].ns, p).toBe(containerNs);
    const base = { ociVersion: expect.any(String), id, bundle: b };
    expect(byPhase.prestart.state).toEqual({ ...base, status: 'creating', pid });
    expect(byPhase.createRuntime.state).toEqual({ ...base, status: 'creating', pid });
    expect(byPhase.createContainer.state).toEqual({ ...base, status: 'creating', pid });
    expect(byPhase.startContainer.state).toEqual({ ...base, status: 'created', pid });
    expect(byPhase.poststart.state).toEqual({ ...base, status: 'running', pid });
    expect(byPhase.poststop.state).toEqual({ ...base, status: 'stopped' });
    expect(readdirSync(stateRoot)).toEqual([]);
    expect(cgroupsNamed([id])).toEqual([]);
    rmSync(hostLog);
  });

  it('a hook over its timeout fails create in one line, and nothing is left', () => {
    const id = `hooks-slow-${process.pid}`;
    const slow = join(dir, 'slow.sh');
    const sleeperPid = join(dir, 'sleeper.pid');
    writeFileSync(slow, `#!/bin/sh\nsleep 300 &\necho $! > ${sleeperPid}\nwait\n`);
    chmodSync(slow, 0o755);
    rmSync(logFile, { force: true });
    const b = bundle((c) => (c.hooks = { createRuntime: [{ path: slow, env: ['PATH=/usr/bin:/bin'], timeout: 1 }] }));
    const r = runtime(['create', '--bundle', b, '--pid-file', join(b, 'pid'), id]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`tsbox-runtime: createRuntime hooks: hooks.createRuntime[0] (${slow}) did not finish within its timeout of 1s and was killed. The hook is config.json's: see what it needs.\n`);
    const errors = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    expect(errors.map((e) => e.msg)).toEqual([r.stderr.replace(/^tsbox-runtime: /, '').trim()]);
    expect(existsSync(join(b, 'pid'))).toBe(false);
    expect(readdirSync(stateRoot)).toEqual([]);
    expect(cgroupsNamed([id])).toEqual([]);
    // The hook's own child was killed with it.
    const sleeper = Number(readFileSync(sleeperPid, 'utf8'));
    expect(until(() => !existsSync(`/proc/${sleeper}`) || /\) Z /.test(readFileSync(`/proc/${sleeper}/stat`, 'utf8')))).toBe(true);
  });

  it('a failing startContainer hook fails start with its reason; the container is stopped', () => {
    const id = `hooks-start-${process.pid}`;
    writeFileSync(join(rootfs, 'refuse.sh'), '#!/bin/sh\necho "not today" >&2\nexit 7\n');
    chmodSync(join(rootfs, 'refuse.sh'), 0o755);
    const b = bundle((c) => {
      c.process.args = ['sh', '-c', 'echo ran > /ran'];
      c.hooks = { startContainer: [{ path: '/refuse.sh', env: ['PATH=/bin'] }] };
    });
    expect(runtime(['create', '--bundle', b, id]).code).toBe(0);
    const s = runtime(['start', id]);
    expect(s.code).toBe(125);
    expect(s.stderr).toBe('tsbox-runtime: start: hooks.startContainer[0] (/refuse.sh) exited with status 7: not today. The container did not start.\n');
    expect(until(() => JSON.parse(runtime(['state', id]).stdout).status === 'stopped')).toBe(true);
    expect(existsSync(join(rootfs, 'ran'))).toBe(false);
    expect(runtime(['delete', id]).code).toBe(0);
    expect(readdirSync(stateRoot)).toEqual([]);
    expect(cgroupsNamed([id])).toEqual([]);
  });
});
