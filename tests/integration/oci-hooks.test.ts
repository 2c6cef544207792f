/**
 * config.json's hooks on a real container, as tsbox-runtime runs them for an engine: every
 * phase is a small sh script appending one line to the same file (the phase, the mount
 * namespace it ran in, the state JSON it read on stdin), so the file's order is the order
 * they ran in. The runtime's phases must run in the runtime's (our) mount namespace, the
 * container's in the container's; each gets its phase's status and the init's pid. A hook
 * that overruns its timeout fails create with one line and leaves nothing behind.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRuntime, removeRuntimeScratch, runtimeScratch, cgroupsNamed } from '../helpers/oci-engines.js';

let dir: string;
let rootfs: string;
let stateRoot: string;
let logFile: string;
let ids = 0;

beforeAll(() => {
  ({ dir, stateRoot, rootfs } = runtimeScratch('tsbox-oci-hooks-'));
  logFile = join(dir, 'log.json');
  symlinkSync('busybox', join(rootfs, 'bin/readlink'));
});

afterAll(() => removeRuntimeScratch(dir, stateRoot));

/**
 * stdout and stderr to files of this call's own: a created container's init holds what it
 * inherited and may write there later (a failing startContainer hook: its error).
 */
const runtime = (args: string[]) => callRuntime(dir, ['--root', stateRoot, '--log', logFile, '--log-format', 'json'], args);

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

  it('a failing prestart, createRuntime or createContainer hook fails create, then poststop runs once and nothing is left', () => {
    const failing = join(dir, 'failing.sh');
    writeFileSync(failing, '#!/bin/sh\ncat > /dev/null\necho "no network for you" >&2\nexit 3\n');
    chmodSync(failing, 0o755);
    const ok = (phase: string, log: string) => {
      const p = join(dir, `ok-${phase}.sh`);
      recorder(p, phase, log);
      return { path: p, env: ['PATH=/usr/bin:/bin'] };
    };
    for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) {
      const id = `hooks-fail-${phase}-${process.pid}`;
      const log = join(dir, `fail-${phase}.log`);
      // The phases before the failing one ran and succeeded; the failing one is second in its list.
      const before = { prestart: [], createRuntime: ['prestart'], createContainer: ['prestart', 'createRuntime'] }[phase];
      const b = bundle((c) => {
        c.hooks = { poststop: [ok('poststop', log)], poststart: [ok('poststart', log)] };
        for (const p of before) c.hooks[p] = [ok(p, log)];
        c.hooks[phase] = [ok(phase, log), { path: failing, env: ['PATH=/usr/bin:/bin'] }];
      });
      rmSync(logFile, { force: true });
      const r = runtime(['create', '--bundle', b, '--pid-file', join(b, 'pid'), id]);
      expect(r.code, phase).toBe(125);
      expect(r.stderr, phase).toContain(`hooks.${phase}[1] (${failing}) exited with status 3: no network for you`);
      expect(r.stderr.split('\n').filter(Boolean), phase).toHaveLength(1);
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => {
        const [p, , ...json] = l.split(' ');
        return { phase: p, state: JSON.parse(json.join(' ')) };
      });
      // In order, and poststop exactly once, last, with the stopped state (no pid).
      expect(lines.map((l) => l.phase), phase).toEqual([...before, phase, 'poststop']);
      expect(lines.at(-1)!.state, phase).toEqual({ ociVersion: expect.any(String), id, status: 'stopped', bundle: b });
      for (const l of lines.slice(0, -1)) expect(l.state.status, `${phase}: ${l.phase}`).toBe('creating');
      expect(existsSync(join(b, 'pid')), phase).toBe(false);
      expect(readdirSync(stateRoot), phase).toEqual([]);
      expect(cgroupsNamed([id]), phase).toEqual([]);
    }
  });

  it('a create refused for a taken id runs none of the other container\'s hooks', () => {
    const id = `hooks-taken-${process.pid}`;
    const log = join(dir, 'taken.log');
    const post = join(dir, 'taken-poststop.sh');
    recorder(post, 'poststop', log);
    const b = bundle((c) => (c.hooks = { poststop: [{ path: post, env: ['PATH=/usr/bin:/bin'] }] }));
    expect(runtime(['create', '--bundle', b, id]).code).toBe(0);
    const again = runtime(['create', '--bundle', b, id]);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain(`container with id ${id} already exists`);
    expect(existsSync(log)).toBe(false);
    expect(JSON.parse(runtime(['state', id]).stdout).status).toBe('created');
    expect(runtime(['delete', id]).code).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['poststop']);
    expect(readdirSync(stateRoot)).toEqual([]);
    expect(cgroupsNamed([id])).toEqual([]);
  });

  it('a create that dies part way leaves a container delete finds: stopped, removed, poststop run', () => {
    const id = `hooks-killed-${process.pid}`;
    const log = join(dir, 'killed.log');
    // An engine's timeout, reproduced: the createRuntime hook SIGKILLs the create that runs it.
    const killer = join(dir, 'kill-create.sh');
    writeFileSync(killer, `#!/bin/sh\ncat > /dev/null\necho killing >> ${log}\nkill -9 $PPID\n`);
    chmodSync(killer, 0o755);
    const post = join(dir, 'killed-poststop.sh');
    recorder(post, 'poststop', log);
    const b = bundle((c) => (c.hooks = { createRuntime: [{ path: killer, env: ['PATH=/usr/bin:/bin'] }], poststop: [{ path: post, env: ['PATH=/usr/bin:/bin'] }] }));
    const r = runtime(['create', '--bundle', b, id]);
    expect(r.code).toBe(null); // killed
    // Without its create, the init leaves (its sync socket closed): the container is stopped.
    expect(until(() => JSON.parse(runtime(['state', id]).stdout).status === 'stopped')).toBe(true);
    expect(cgroupsNamed([id])).not.toEqual([]);
    const d = runtime(['delete', id]);
    expect(d.stderr).toBe('');
    expect(d.code).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['killing', 'poststop']);
    expect(JSON.parse(lines[1]!.split(' ').slice(2).join(' '))).toEqual({ ociVersion: expect.any(String), id, status: 'stopped', bundle: b });
    expect(readdirSync(stateRoot)).toEqual([]);
    expect(cgroupsNamed([id])).toEqual([]);
  });

  it('delete --force of a running container runs poststop once its processes and group are gone', () => {
    const id = `hooks-force-${process.pid}`;
    const log = join(dir, 'force.log');
    const watch = join(dir, 'force-watch');
    // The test writes the container's pids and group here once it runs; poststop checks them.
    const post = join(dir, 'force-poststop.sh');
    writeFileSync(post, `#!/bin/sh
cat > /dev/null
read cg pids < ${watch}
for p in $pids; do
  if [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status; then echo "alive $p" >> ${log}; fi
done
[ -d "$cg" ] && echo "group-left $cg" >> ${log}
echo poststop >> ${log}
`);
    chmodSync(post, 0o755);
    const b = bundle((c) => {
      c.process.args = ['sh', '-c', 'sleep 300 & exec sleep 301'];
      c.hooks = { poststop: [{ path: post, env: ['PATH=/usr/bin:/bin'] }] };
    });
    expect(runtime(['create', '--bundle', b, id]).code).toBe(0);
    expect(runtime(['start', id]).code).toBe(0);
    const [cg] = cgroupsNamed([id]);
    expect(cg).toBeDefined();
    const procs = () => readFileSync(join(cg!, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    expect(until(() => procs().length === 2)).toBe(true);
    writeFileSync(watch, `${cg} ${procs().join(' ')}\n`);
    const d = runtime(['delete', '--force', id]);
    expect(d.stderr).toBe('');
    expect(d.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('poststop\n');
    expect(readdirSync(stateRoot)).toEqual([]);
    expect(cgroupsNamed([id])).toEqual([]);
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
