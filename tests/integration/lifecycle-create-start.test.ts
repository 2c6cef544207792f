/**
 * The container model through the CLI: create (the container exists, its command held),
 * start [-a], restart, rm of a created container, a created container's monitor killed
 * (gc releases what it held, by kind), and records written by the previous tsbox version.
 * Names carry a per-run prefix: other suites run containers at the same time.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rootfsTar, testRoot, tsbox } from '../helpers/tsbox.js';
import { alive, cgroup2Mount, leftBehind, NOTHING_LEFT, waitFor } from '../helpers/faults.js';

const P = `cs${process.pid}-`;

async function ok(args: string[]): Promise<string> {
  const r = await tsbox(args);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}
async function record(ref: string): Promise<Record<string, any>> {
  const [r] = JSON.parse(await ok(['inspect', ref])) as Record<string, any>[];
  return r!;
}
const stateOf = (shortId: string) => JSON.parse(readFileSync(join(testRoot(), 'run', 'containers', shortId, 'state.json'), 'utf8')) as Record<string, any>;
const until = (pred: () => boolean, what: string) => waitFor(pred, 20_000, what, 20);

afterAll(async () => {
  const out = await tsbox(['ps', '-a', '--format', '{{.Names}}']);
  const left = out.stdout.split('\n').filter((n) => n.startsWith(P));
  if (left.length > 0) await tsbox(['rm', '-f', ...left]);
});

describe('create and start', () => {
  it('create sets the container up and holds its command; it survives the CLI; start runs it', async () => {
    const id = (await ok(['create', '--name', `${P}a`, rootfsTar(), 'sh', '-c', 'echo ran; exit 4'])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // The CLI has exited: the container is still there, created, its init alive and held.
    const created = await record(`${P}a`);
    expect(created).toMatchObject({ id, status: 'created' });
    expect(alive(created.pid)).toBe(true);
    expect(await ok(['ps', '-a'])).toMatch(new RegExp(`${id.slice(0, 12)}\\s+${P}a\\s+.*Created`));
    // Its command has not run, and exec is refused (docker too): nothing runs to join.
    expect((await tsbox(['logs', `${P}a`])).stdout).toBe('');
    const exec = await tsbox(['exec', `${P}a`, 'true']);
    expect(exec.code).toBe(125);
    expect(exec.stderr).toMatch(/^tsbox: cannot exec container .*: it is created\. Start it first/);

    expect(await ok(['start', `${P}a`])).toBe(`${P}a\n`);
    expect(await ok(['wait', `${P}a`])).toBe('4\n');
    expect((await tsbox(['logs', `${P}a`])).stdout).toBe('ran\n');
    // start of a running one is refused; of a stopped one runs it again (docker's start)
    await ok(['start', `${P}a`]);
    await ok(['wait', `${P}a`]);
    expect((await tsbox(['logs', `${P}a`])).stdout).toBe('ran\nran\n');
    await ok(['rm', `${P}a`]);
    expect(leftBehind(testRoot(), [id.slice(0, 12)])).toMatchObject({ containers: [], cgroups: [], mounts: [] });
  });

  it('start -a prints the output and exits with the command status', async () => {
    await ok(['create', '--name', `${P}b`, rootfsTar(), 'sh', '-c', 'echo one; echo two >&2; exit 3']);
    const r = await tsbox(['start', '-a', `${P}b`]);
    expect(r).toMatchObject({ code: 3, stdout: 'one\n', stderr: 'two\n' });
    await ok(['rm', `${P}b`]);
  });

  it('create --rm, then start -a: the output and the exit status reach the caller, then the container is gone', async () => {
    // Before: the monitor of a --rm container recorded no output and removed the record as
    // the command exited, so start -a printed nothing and failed with "removed while waiting".
    const id = (await ok(['create', '--rm', '--name', `${P}rm`, rootfsTar(), 'sh', '-c', 'echo one; echo two >&2; exit 3'])).trim();
    const r = await tsbox(['start', '-a', `${P}rm`]);
    expect(r).toMatchObject({ code: 3, stdout: 'one\n', stderr: 'two\n' });
    await until(() => !existsSync(join(testRoot(), 'run', 'containers', id.slice(0, 12))), 'the --rm container is removed');
    expect(leftBehind(testRoot(), [id.slice(0, 12)])).toMatchObject({ containers: [], records: [], cgroups: [], mounts: [] });
  });

  it("run's flags work with create + start -a as with run", async () => {
    const scratch = join('/var/tmp', `${P}flags`);
    const vol = join(scratch, 'vol');
    mkdirSync(vol, { recursive: true });
    chmodSync(vol, 0o777); // -u 1:1 writes there
    const envFile = join(scratch, 'env');
    writeFileSync(envFile, 'FROM_FILE=yes\n');
    const stats = join(scratch, 'stats.json');
    try {
      const script = 'echo "$A $FROM_FILE $(pwd) $(hostname) $(id -u):$(id -g)"; echo v > /vol/x; touch /ro 2>/dev/null || echo ro; mount | grep -c " /scratch type tmpfs"; exit 4';
      const flags = ['-e', 'A=a', '--env-file', envFile, '-w', '/vol', '-u', '1:1', '-v', `${vol}:/vol`, '--tmpfs', '/scratch', '--hostname', 'h1', '--read-only', '--cap-drop', 'ALL', '--init', '--label', 'k=v', '--stats-file', stats];
      await ok(['create', '--name', `${P}flags`, ...flags, rootfsTar(), 'sh', '-c', script]);
      expect((await record(`${P}flags`)).labels).toEqual({ k: 'v' });
      const started = await tsbox(['start', '-a', `${P}flags`]);
      expect(started).toMatchObject({ code: 4, stdout: 'a yes /vol h1 1:1\nro\n1\n', stderr: '' });
      expect(readFileSync(join(vol, 'x'), 'utf8')).toBe('v\n');
      expect(JSON.parse(readFileSync(stats, 'utf8'))).toMatchObject({ exitCode: 4, oomKilled: false });
      // The same flags through run, for the comparison the issue asks: one behaviour.
      const ran = await tsbox(['run', '--rm', ...flags, rootfsTar(), 'sh', '-c', script]);
      expect(ran).toMatchObject({ code: 4, stdout: started.stdout, stderr: '' });
      await ok(['rm', `${P}flags`]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it.each([
    [['-t'], /^tsbox: -t and create cannot be combined/],
    [['-i'], /^tsbox: -i and create cannot be combined/],
    [['--stats'], /^tsbox: --stats and create cannot be combined/],
  ])('create %j is refused in one line, 125, and creates nothing', async (flags, message) => {
    const before = (await tsbox(['ps', '-a', '-q'])).stdout;
    const r = await tsbox(['create', ...flags, '--name', `${P}refused`, rootfsTar(), 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect((await tsbox(['ps', '-a', '-q'])).stdout).toBe(before);
  });

  it('start of a running container is refused in one line', async () => {
    await ok(['run', '-d', '--name', `${P}c`, rootfsTar(), 'sleep', '30']);
    const r = await tsbox(['start', `${P}c`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^tsbox: cannot start container .*: it is running\./);
    await ok(['rm', '-f', `${P}c`]);
  });

  it('restart stops the command and starts a new init with the same config, id and log', async () => {
    const id = (await ok(['run', '-d', '--name', `${P}d`, rootfsTar(), 'sh', '-c', 'echo up; trap "exit 0" TERM; while true; do sleep 0.1; done'])).trim();
    const first = (await record(`${P}d`)).pid as number;
    await until(() => readFileSync(join(testRoot(), 'run', 'containers', id.slice(0, 12), 'container.log'), 'utf8').includes('up'), 'first start logged');
    expect(await ok(['restart', '-t', '5', `${P}d`])).toBe(`${P}d\n`);
    const again = await record(`${P}d`);
    expect(again).toMatchObject({ id, status: 'running', name: `${P}d` });
    expect(again.pid).not.toBe(first);
    expect(alive(first)).toBe(false);
    await until(() => (readFileSync(join(testRoot(), 'run', 'containers', id.slice(0, 12), 'container.log'), 'utf8').match(/up/g) ?? []).length === 2, 'second start logged');
    await ok(['rm', '-f', `${P}d`]);
    expect(leftBehind(testRoot(), [id.slice(0, 12)])).toMatchObject({ containers: [], cgroups: [], mounts: [] });
  });
});

describe('releasing what a created container holds', () => {
  it('rm of a created, never started container kills its held init and leaves nothing', async () => {
    const id = (await ok(['create', rootfsTar(), 'sleep', '100'])).trim();
    const short = id.slice(0, 12);
    const pid = stateOf(short).pid as number;
    expect(alive(pid)).toBe(true);
    expect(await ok(['rm', short])).toBe(`${short}\n`);
    expect(alive(pid)).toBe(false);
    expect(leftBehind(testRoot(), [short])).toMatchObject({ containers: [], records: [], cgroups: [], mounts: [] });
  });

  it('a created container whose monitor is SIGKILLed dies with it; gc releases its cgroup, layer and directory', async () => {
    const id = (await ok(['create', '--name', `${P}k`, rootfsTar(), 'sleep', '100'])).trim();
    const short = id.slice(0, 12);
    const { pid, ownerPid } = stateOf(short) as { pid: number; ownerPid: number };
    const held = JSON.parse(readFileSync(join(testRoot(), 'containers', short, 'resources.json'), 'utf8')) as { resources: { kind: string }[] };
    expect(held.resources.map((r) => r.kind)).toEqual(expect.arrayContaining(['container-dir', 'overlay', 'process']));
    process.kill(ownerPid, 'SIGKILL');
    await until(() => !alive(pid), 'held init killed by PDEATHSIG');
    await ok(['gc']);
    expect(existsSync(join(testRoot(), 'containers', short))).toBe(false);
    expect(leftBehind(testRoot(), [short])).toMatchObject({ containers: [], cgroups: [], mounts: [] });
    // the kept record says what happened, until rm
    expect(await record(`${P}k`)).toMatchObject({ status: 'exited', exitCode: 137 });
    await ok(['rm', `${P}k`]);
  });
});

describe('state written by the previous version', () => {
  it("gc reclaims a killed run's directory recorded in the old owner.json, with its cgroup", async () => {
    const short = 'f00d00000001';
    const dir = join(testRoot(), 'containers', short);
    mkdirSync(join(dir, 'upper'), { recursive: true });
    writeFileSync(join(dir, 'lock'), '');
    let cgroup: string | null = null;
    try {
      const parent = join(cgroup2Mount(), 'tsbox');
      if (existsSync(parent)) {
        cgroup = join(parent, short);
        mkdirSync(cgroup);
      }
    } catch {
      cgroup = null; // no cgroup v2 here: the record names none, as the old version wrote then
    }
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ id: short.padEnd(64, '0'), pid: 999999, cgroup }));
    try {
      await ok(['gc']);
      expect(existsSync(dir)).toBe(false);
      if (cgroup) expect(existsSync(cgroup)).toBe(false);
    } finally {
      if (cgroup && existsSync(cgroup)) rmdirSync(cgroup);
    }
  });

  it('a stopped named container recorded by the previous version is listed, inspected and removed', async () => {
    const short = 'f00d00000002';
    const dir = join(testRoot(), 'run', 'containers', short);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'owner.lock'), '');
    // Exactly what the previous version wrote (no labels field: it predates labels).
    writeFileSync(join(dir, 'state.json'), JSON.stringify({
      version: 1, id: short.padEnd(64, '0'), shortId: short, name: `${P}old`, command: ['echo', 'hi'], rootfs: '/x.tar', imageDigest: null,
      created: '2026-01-01T00:00:00.000Z', startedAt: '2026-01-01T00:00:01.000Z', finishedAt: '2026-01-01T00:00:02.000Z',
      status: 'exited', pid: null, ownerPid: null, exitCode: 0, oomKilled: false, error: null, detached: true, keep: true, tty: false, init: false, cgroup: null,
    }));
    expect(await ok(['ps', '-a'])).toMatch(new RegExp(`${short}\\s+${P}old\\s+.*Exited \\(0\\)`));
    expect(await record(`${P}old`)).toMatchObject({ status: 'exited', exitCode: 0, name: `${P}old` });
    expect(await ok(['rm', `${P}old`])).toBe(`${P}old\n`);
    expect(existsSync(dir)).toBe(false);
  });

  it('a record of another version is named in one line, never misread', async () => {
    const short = 'f00d00000003';
    const dir = join(testRoot(), 'run', 'containers', short);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 7, id: short, status: 'weird' }));
    try {
      const ps = await tsbox(['ps', '-a']);
      expect(ps.code).toBe(0);
      expect(ps.stdout).not.toContain(short);
      expect(ps.stderr).toContain(`tsbox: warning: ${join(dir, 'state.json')} is a version 7 record; this tsbox reads version 1.`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gc releases each kind of resource a killed holder recorded', () => {
  it('process, cgroup, overlay and directory, newest first, from resources.json', async () => {
    const { spawn } = await import('node:child_process');
    const { processStartTime } = await import('../../src/container/release.js');
    const short = 'f00d00000004';
    const dir = join(testRoot(), 'containers', short);
    mkdirSync(join(dir, 'upper'), { recursive: true });
    mkdirSync(join(dir, 'work'), { recursive: true });
    writeFileSync(join(dir, 'upper', 'written-by-the-container'), 'x');
    writeFileSync(join(dir, 'lock'), ''); // free: its holder is gone
    // A stand-in for the held init: a harmless process of ours, recorded with its start time.
    const init = spawn('sleep', ['300'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => init.once('exit', resolve));
    const startTime = await (async () => {
      for (;;) {
        const t = processStartTime(init.pid!);
        if (t !== null) return t;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    let cgroup: string | null = null;
    const parent = join(cgroup2Mount(), 'tsbox');
    if (existsSync(parent)) {
      cgroup = join(parent, short);
      mkdirSync(cgroup);
    }
    const resources = [
      { kind: 'container-dir', path: dir },
      { kind: 'overlay', upper: join(dir, 'upper'), work: join(dir, 'work') },
      ...(cgroup ? [{ kind: 'cgroup', path: cgroup }] : []),
      { kind: 'process', role: 'init', pid: init.pid, startTime },
    ];
    writeFileSync(join(dir, 'resources.json'), JSON.stringify({ version: 2, id: short.padEnd(64, '0'), resources }));
    try {
      await ok(['gc']);
      await exited;
      expect(init.signalCode).toBe('SIGKILL');
      expect(existsSync(dir)).toBe(false);
      if (cgroup) expect(existsSync(cgroup)).toBe(false);
    } finally {
      init.kill('SIGKILL');
      if (cgroup && existsSync(cgroup)) rmdirSync(cgroup);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a process entry whose pid was reused (another start time) is not killed', async () => {
    const { spawn } = await import('node:child_process');
    const short = 'f00d00000005';
    const dir = join(testRoot(), 'containers', short);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lock'), '');
    const other = spawn('sleep', ['300'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'resources.json'), JSON.stringify({ version: 2, id: short.padEnd(64, '0'), resources: [
      { kind: 'container-dir', path: dir },
      { kind: 'process', role: 'init', pid: other.pid, startTime: '1' },
    ] }));
    try {
      await ok(['gc']);
      expect(existsSync(dir)).toBe(false);
      expect(alive(other.pid!)).toBe(true);
    } finally {
      other.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a new life after a killed holder', () => {
  it('start of a container whose monitor was SIGKILLed releases the old life and runs again', async () => {
    const id = (await ok(['run', '-d', '--name', `${P}z`, rootfsTar(), 'sleep', '100'])).trim();
    const short = id.slice(0, 12);
    const { pid, ownerPid } = stateOf(short) as { pid: number; ownerPid: number };
    process.kill(ownerPid, 'SIGKILL');
    await until(() => !alive(pid), 'container killed with its monitor');
    expect(await ok(['start', `${P}z`])).toBe(`${P}z\n`);
    expect(await record(`${P}z`)).toMatchObject({ id, status: 'running' });
    await ok(['rm', '-f', `${P}z`]);
    expect(leftBehind(testRoot(), [short])).toMatchObject({ containers: [], cgroups: [], mounts: [] });
  });
});
