/**
 * Container lifecycle through the CLI: run -d, --name, ps, inspect, logs, stop, kill, rm,
 * wait, their errors, concurrent use, a killed monitor, and that nothing remains after rm.
 * Names carry a per-run prefix: another suite may run containers at the same time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STATIC_INIT_HOST_PATH } from '../../src/mounts/static-init.js';
import { rootfsTar, testRoot, TSBOX_BIN, tsbox } from '../helpers/tsbox.js';

const P = `lc${process.pid}-`;
const loop = 'echo out; echo err >&2; trap "echo bye; exit 7" TERM; while true; do sleep 0.1; done';

function stateEntries(): string[] {
  try {
    return readdirSync(join(testRoot(), 'containers'));
  } catch {
    return [];
  }
}
/** Containers whose processes' part (live/: overlay layer, resources.json) is still there. */
function runtimeDirs(): string[] {
  return stateEntries().filter((n) => existsSync(join(testRoot(), 'containers', n, 'live')));
}
async function ok(args: string[]): Promise<string> {
  const r = await tsbox(args);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}
async function psJson(all = true): Promise<Record<string, unknown>[]> {
  const out = await ok(['ps', ...(all ? ['-a'] : []), '--format', 'json']);
  return out.trim() === '' ? [] : out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}
const mine = (records: Record<string, unknown>[]) => records.filter((r) => String(r.name ?? '').startsWith(P));

afterAll(async () => {
  const left = mine(await psJson()).map((r) => String(r.name));
  if (left.length > 0) await tsbox(['rm', '-f', ...left]);
});

describe('detached containers', () => {
  it('run -d prints the id; ps, inspect, logs, stop, wait, rm; nothing remains', async () => {
    const id = (await ok(['run', '-d', '--name', `${P}a`, rootfsTar(), 'sh', '-c', loop])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const running = mine(await psJson(false));
    expect(running).toHaveLength(1);
    expect(running[0]).toMatchObject({ id, name: `${P}a`, status: 'running', command: ['sh', '-c', loop] });
    expect(running[0]!.pid).toBeGreaterThan(1);
    expect(await ok(['ps'])).toMatch(new RegExp(`${id.slice(0, 12)}\\s+${P}a\\s+.*Up`));

    const [inspected] = JSON.parse(await ok(['inspect', id.slice(0, 10)])) as Record<string, any>[];
    expect(inspected).toMatchObject({ id, status: 'running', detached: true });
    expect(inspected!.cgroup === null || typeof inspected!.cgroup === 'string').toBe(true);
    expect(inspected!.mounts.map((m: { target: string }) => m.target)).toEqual(expect.arrayContaining(['/', '/proc', '/dev/pts']));
    expect(inspected!.spec.process.args).toEqual(['sh', '-c', loop]);

    await waitFor(async () => (await tsbox(['logs', `${P}a`])).stdout === 'out\n');
    const logs = await tsbox(['logs', `${P}a`]);
    expect(logs).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });

    expect(await ok(['stop', '-t', '5', `${P}a`])).toBe(`${P}a\n`);
    expect(await ok(['wait', `${P}a`])).toBe('7\n');
    expect(mine(await psJson(false))).toHaveLength(0);
    const [exited] = mine(await psJson());
    expect(exited).toMatchObject({ status: 'exited', exitCode: 7, pid: null });
    expect((await tsbox(['logs', `${P}a`])).stdout).toBe('out\nbye\n');

    expect(await ok(['rm', `${P}a`])).toBe(`${P}a\n`);
    expect(mine(await psJson())).toHaveLength(0);
    expect(stateEntries()).not.toContain(id.slice(0, 12));
    expect(runtimeDirs()).not.toContain(id.slice(0, 12));
  });

  it('stop falls back to SIGKILL when the process ignores SIGTERM; kill -s sends a signal', async () => {
    await ok(['run', '-d', '--name', `${P}b`, rootfsTar(), 'sh', '-c', 'trap "" TERM; trap "exit 3" USR1; while true; do sleep 0.1; done']);
    await ok(['run', '-d', '--name', `${P}c`, rootfsTar(), 'sh', '-c', 'trap "" TERM; trap "exit 3" USR1; echo trapped; while true; do sleep 0.1; done']);
    const started = Date.now();
    await ok(['stop', '-t', '1', `${P}b`]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await ok(['wait', `${P}b`])).toBe('137\n');
    // USR1 before the trap is installed would kill the shell (138): wait until it says so.
    await waitFor(async () => (await ok(['logs', `${P}c`])).includes('trapped'));
    await ok(['kill', '-s', 'USR1', `${P}c`]);
    expect(await ok(['wait', `${P}c`])).toBe('3\n');
    await ok(['rm', `${P}b`, `${P}c`]);
  });

  it('errors: unknown name, name taken, already stopped, rm of a running container', async () => {
    const unknown = await tsbox(['stop', `${P}nope`]);
    expect(unknown.code).toBe(125);
    expect(unknown.stderr).toBe(`tsbox: no such container: ${P}nope. See 'tsbox ps -a'.\n`);
    expect((await tsbox(['logs', `${P}nope`])).code).toBe(125);
    expect((await tsbox(['inspect', `${P}nope`])).code).toBe(125);

    await ok(['run', '-d', '--name', `${P}d`, rootfsTar(), 'sleep', '60']);
    const taken = await tsbox(['run', '-d', '--name', `${P}d`, rootfsTar(), 'true']);
    expect(taken.code).toBe(125);
    expect(taken.stderr).toMatch(/the container name '.*d' is already in use/);
    const takenFg = await tsbox(['run', '--name', `${P}d`, rootfsTar(), 'true']);
    expect(takenFg.code).toBe(125);

    const rmRunning = await tsbox(['rm', `${P}d`]);
    expect(rmRunning.code).toBe(125);
    expect(rmRunning.stderr).toMatch(/is running.*rm -f/);
    await ok(['rm', '-f', `${P}d`]);
    expect(mine(await psJson())).toHaveLength(0);

    await ok(['run', '--name', `${P}e`, rootfsTar(), 'true']);
    const killStopped = await tsbox(['kill', `${P}e`]);
    expect(killStopped.code).toBe(125);
    expect(killStopped.stderr).toMatch(/is not running/);
    expect((await tsbox(['stop', `${P}e`])).code).toBe(0); // docker: stopping a stopped container is fine
    await ok(['rm', `${P}e`]);

    const badName = await tsbox(['run', '--name', 'a/b', rootfsTar(), 'true']);
    expect(badName.code).toBe(125);
    const failedStart = await tsbox(['run', '-d', '--name', `${P}f`, rootfsTar(), '/no/such/command']);
    expect(failedStart.code).toBe(127);
    expect(mine(await psJson())).toHaveLength(0); // a failed start leaves no record
  });

  it('logs --tail and -f', async () => {
    // "late" comes when the test says so (a file in a volume), not after a fixed time.
    const ctl = mkdtempSync('/var/tmp/tsbox-logs-ctl-');
    await ok(['run', '-d', '--name', `${P}g`, '-v', `${ctl}:/ctl`, rootfsTar(), 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; while [ ! -e /ctl/go ]; do sleep 0.05; done; echo late']);
    await waitFor(async () => (await tsbox(['logs', `${P}g`])).stdout.includes('line5'));
    expect((await tsbox(['logs', '--tail', '2', `${P}g`])).stdout).toBe('line4\nline5\n');
    const following = tsbox(['logs', '-f', `${P}g`]);
    writeFileSync(join(ctl, 'go'), '');
    const followed = await following;
    rmSync(ctl, { recursive: true, force: true });
    expect(followed.stdout).toBe('line1\nline2\nline3\nline4\nline5\nlate\n');
    expect(await ok(['wait', `${P}g`])).toBe('0\n');
    await ok(['rm', `${P}g`]);
  });
});

describe('foreground containers', () => {
  it('stay ephemeral without --name; with --name they are kept, exited, until rm', async () => {
    const before = stateEntries().length;
    const plain = await tsbox(['run', rootfsTar(), 'sh', '-c', 'exit 4']);
    expect(plain.code).toBe(4);
    expect(stateEntries().length).toBe(before);

    const named = await tsbox(['run', '--name', `${P}h`, rootfsTar(), 'sh', '-c', 'echo out; echo err >&2; exit 5']);
    expect(named).toMatchObject({ code: 5, stdout: 'out\n', stderr: 'err\n' });
    const [rec] = mine(await psJson());
    expect(rec).toMatchObject({ name: `${P}h`, status: 'exited', exitCode: 5, detached: false });
    expect(await tsbox(['logs', `${P}h`])).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });
    expect(await ok(['wait', `${P}h`])).toBe('5\n');
    await ok(['rm', `${P}h`]);
    expect(stateEntries().length).toBe(before);
    expect(runtimeDirs()).not.toContain(rec!.shortId);
  });

  it('with --name, the output reaches the user as it comes, and a signal to tsbox still reaches the command', async () => {
    let seen = '';
    let tsboxProcess: import('node:child_process').ChildProcess | undefined;
    const run = tsbox(['run', '--name', `${P}sig`, rootfsTar(), 'sh', '-c', 'trap "echo got-term; exit 9" TERM; echo ready; while true; do sleep 0.1; done'], {
      onSpawn: (child) => {
        tsboxProcess = child;
        child.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
      },
    });
    await waitFor(() => seen.includes('ready')); // passed through while the command still runs
    expect((await tsbox(['logs', `${P}sig`])).stdout).toBe('ready\n');
    tsboxProcess!.kill('SIGTERM');
    expect(await run).toMatchObject({ code: 9, stdout: 'ready\ngot-term\n' });
    expect((await tsbox(['logs', `${P}sig`])).stdout).toBe('ready\ngot-term\n');
    await ok(['rm', `${P}sig`]);
  });

  it('a running foreground container is listed and can be stopped from another tsbox', async () => {
    const run = tsbox(['run', '--name', `${P}i`, rootfsTar(), 'sleep', '60']);
    // ps lists it from the start ("created"); kill needs it running.
    await waitFor(async () => mine(await psJson(false)).some((r) => r.status === 'running'));
    await ok(['kill', `${P}i`]);
    expect((await run).code).toBe(137);
    await ok(['rm', `${P}i`]);
  });
});

describe('concurrent use and killed owners', () => {
  it('of 6 concurrent runs with one name exactly one gets it; distinct names all start', async () => {
    const same = await Promise.all(Array.from({ length: 6 }, () => tsbox(['run', '-d', '--name', `${P}same`, rootfsTar(), 'sleep', '60'])));
    expect(same.filter((r) => r.code === 0)).toHaveLength(1);
    expect(same.filter((r) => r.code === 125 && /already in use/.test(r.stderr))).toHaveLength(5);
    const names = Array.from({ length: 5 }, (_, i) => `${P}many${i}`);
    const many = await Promise.all(names.map((n) => tsbox(['run', '-d', '--name', n, rootfsTar(), 'sleep', '60'])));
    expect(many.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    expect(mine(await psJson(false))).toHaveLength(6);
    const removed = await Promise.all([`${P}same`, ...names].map((n) => tsbox(['rm', '-f', n])));
    expect(removed.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(mine(await psJson())).toHaveLength(0);
  });

  it('a SIGKILLed monitor: the container dies with it, the record says so, gc reclaims the rest', async () => {
    const id = (await ok(['run', '-d', '--name', `${P}k`, rootfsTar(), 'sleep', '60'])).trim();
    const [rec] = mine(await psJson(false));
    process.kill(rec!.ownerPid as number, 'SIGKILL');
    await waitFor(() => !existsSync(`/proc/${rec!.pid as number}`));
    expect(await ok(['wait', `${P}k`])).toBe('137\n');
    const [after] = mine(await psJson());
    expect(after).toMatchObject({ status: 'exited', exitCode: 137 });
    expect(String(after!.error)).toMatch(/killed/);
    expect(await ok(['gc'])).toMatch(/reclaimed/);
    expect(runtimeDirs()).not.toContain(id.slice(0, 12));
    if (typeof rec!.cgroup === 'string') expect(existsSync(rec!.cgroup)).toBe(false);
    await ok(['rm', `${P}k`]);
    expect(stateEntries()).not.toContain(id.slice(0, 12));
  });
});

describe('--init', () => {
  it('runs tini as PID 1, which reaps orphans, forwards signals and exits with the command status', async () => {
    const r = await tsbox(['run', '--init', rootfsTar(), 'sh', '-c', 'sh -c "sleep 0.2 & exit 0"; sleep 0.5; echo pid=$$; cat /proc/1/comm; ls /proc | grep -c "^[0-9]"; exit 6']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(6);
    const [pid, comm, count] = r.stdout.trim().split('\n');
    expect(pid).not.toBe('pid=1');
    expect(comm).toBe('init'); // tini, bound at /dev/init
    expect(Number(count)).toBeLessThanOrEqual(4); // init, sh, ls, grep: the orphaned sleep was reaped
    const notFound = await tsbox(['run', '--init', rootfsTar(), '/no/such']);
    expect(notFound.code).toBe(127);

    await ok(['run', '-d', '--init', '--name', `${P}init`, rootfsTar(), 'sleep', '60']);
    // sleep has no TERM handler: the init forwards TERM and it dies of it (143); had the
    // init not forwarded it, stop would have fallen back to SIGKILL after 10 s (137).
    await ok(['stop', '-t', '10', `${P}init`]);
    expect(await ok(['wait', `${P}init`])).toBe('143\n');
    await ok(['rm', `${P}init`]);
  });

  it('without tini on the host, --init is refused in one line naming the package (125), nothing left', () => {
    // tini is hidden from this one command only: /dev/null bound over it in a private mount namespace.
    const script = `mount --bind /dev/null ${STATIC_INIT_HOST_PATH} && exec ${TSBOX_BIN} run --init ${rootfsTar()} true`;
    const before = [stateEntries(), runtimeDirs()];
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { env: { ...process.env, TSBOX_ROOT: testRoot() }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(125);
    expect(r.stderr.trim().split('\n')).toEqual([`tsbox: --init needs tini, and ${STATIC_INIT_HOST_PATH} is not installed. Install it (apt-get install tini), or run without --init.`]);
    expect([stateEntries(), runtimeDirs()]).toEqual(before);
  });

  it('-t without a terminal on stdin is a clear error', async () => {
    const r = await tsbox(['run', '-t', rootfsTar(), 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^tsbox: -t needs a terminal on stdin/);
  });
});

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
