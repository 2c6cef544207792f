/**
 * The programmatic API (`import { run } from 'tsbox'`, src/api/) against real containers,
 * in this process as a CI system would call it: results versus rejections, stdio, timeout
 * and abort, and the lifecycle functions. Plus the runtime's logs.
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ENTRY, leftOf, loadApi, processesRunning, until, type Api } from '../helpers/api.js';
import { rootfsTar, testRoot, tsbox } from '../helpers/tsbox.js';

const P = `api${process.pid}-`;
let api: Api;
let scratch: string;

beforeAll(async () => {
  api = await loadApi();
  scratch = mkdtempSync('/var/tmp/tsbox-api-test-');
});

afterAll(async () => {
  for (const c of await api.ps({ all: true, root: testRoot() })) if (c.name?.startsWith(P)) await api.rm(c.name, { force: true, root: testRoot() });
  rmSync(scratch, { recursive: true, force: true });
});

const base = () => ({ rootfs: rootfsTar(), root: testRoot() });

describe('run(): the command\'s statuses are results, tsbox\'s failures reject', () => {
  it('a command that does not exist resolves with 127, as the CLI exits, and leaves nothing', async () => {
    const r = await api.run({ ...base(), command: ['no-such-command'] });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 127, signal: null, stdout: null });
    expect(r.error).toMatchObject({ step: 'find command', exitCode: 127 });
    expect(r.error!.message).toMatch(/no-such-command: command not found/);
    expect(leftOf(r.id)).toEqual([]);
    expect((await tsbox(['run', rootfsTar(), 'no-such-command'])).code).toBe(127);
  });

  it('a command that cannot be executed resolves with 126, as the CLI exits', async () => {
    const r = await api.run({ ...base(), command: ['/etc/passwd'] });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 126 });
    expect(r.error!.step).toBe('find command');
    expect((await tsbox(['run', rootfsTar(), '/etc/passwd'])).code).toBe(126);
  });

  it('a command killed by a signal resolves with 128+N and the signal', async () => {
    const name = `${P}killed`;
    const c = api.run({ ...base(), name, command: ['sleep', '977'] });
    await until('the container to run', async () => (await api.ps({ root: testRoot() })).some((x) => x.name === name && x.status === 'running'));
    await api.kill(name, { signal: 'KILL', root: testRoot() });
    const r = await c;
    expect(r).toMatchObject({ reason: 'signaled', exitCode: 137, signal: 'SIGKILL', error: null, name });
    await api.rm(name, { root: testRoot() });
    expect(leftOf(r.id)).toEqual([]);
  });

  it('a rootfs that cannot be read rejects with a TsboxError (125, step, one line) and leaves nothing', async () => {
    const before = (await api.ps({ all: true, root: testRoot() })).length;
    const c = api.run({ ...base(), rootfs: '/no/such/rootfs.tar' });
    const err = await c.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(api.TsboxError);
    expect(err).toMatchObject({ exitCode: 125, step: 'prepare rootfs' });
    expect((err as Error).message).not.toMatch(/\n/);
    expect(leftOf(c.id)).toEqual([]);
    expect((await api.ps({ all: true, root: testRoot() })).length).toBe(before);
  });

  it('an invalid option rejects with a one-line UsageError before anything starts', async () => {
    const err = await api.run({ ...base(), stdout: 'file.txt' as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(api.UsageError);
    expect(err).toMatchObject({ exitCode: 125, step: 'run', message: "invalid option 'stdout': expected 'inherit', 'pipe', 'buffer', 'ignore' or an fd number" });
  });
});

describe('run(): stdio', () => {
  it("'buffer' puts stdout and stderr in the result, as strings or Buffers", async () => {
    const r = await api.run({ ...base(), command: ['sh', '-c', 'echo out; echo err >&2; printf "\\377"'], stdout: 'buffer', stderr: 'buffer' });
    expect(r.stdout).toBe('out\n\uFFFD');
    expect(r.stderr).toBe('err\n');
    const b = await api.run({ ...base(), command: ['printf', '\\377\\001'], stdout: 'buffer', encoding: 'buffer' });
    expect(Buffer.isBuffer(b.stdout)).toBe(true);
    expect([...b.stdout!]).toEqual([0xff, 0x01]);
  });

  it('runs containers side by side in one process, each with its own output and input', async () => {
    const jobs = [1, 2, 3, 4].map((n) => api.run({ ...base(), command: ['sh', '-c', `read x; sleep 0.$n; echo "job ${n} $x"`], input: `in${n}\n`, stdout: 'buffer' }));
    const results = await Promise.all(jobs);
    expect(results.map((r) => r.stdout)).toEqual(['job 1 in1\n', 'job 2 in2\n', 'job 3 in3\n', 'job 4 in4\n']);
    expect(new Set(results.map((r) => r.id)).size).toBe(4);
    for (const r of results) expect(leftOf(r.id)).toEqual([]);
  });

  it('gives the container real pipes: /dev/stdout and /dev/stderr open', async () => {
    const r = await api.run({ ...base(), command: ['sh', '-c', 'echo a > /dev/stdout; echo b > /dev/stderr'], stdout: 'buffer', stderr: 'buffer' });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'a\n', stderr: 'b\n' });
  });

  it("'pipe' streams the output before the promise settles, and stdin takes a Readable", async () => {
    const answers = new PassThrough();
    let settled = false;
    const c = api.run({ ...base(), command: ['sh', '-c', 'echo ready; read name; echo "hello $name"'], stdin: answers, stdout: 'pipe' });
    void c.then(() => (settled = true), () => (settled = true));
    const seen: string[] = [];
    c.stdout!.setEncoding('utf8');
    c.stdout!.on('data', (text: string) => {
      seen.push(`${settled ? 'after' : 'before'}: ${text}`);
      if (text.includes('ready')) answers.end('CI\n');
    });
    const r = await c.result;
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0, stdout: null });
    // All of it came before the result (a reading caller is waited for), 'ready' while it ran.
    expect(seen.join('')).toBe('before: ready\nbefore: hello CI\n');
    expect(c.stdout!.readableEnded).toBe(true);
  });

  it('stdin from `input` (string or Buffer); ignored stdin reads EOF', async () => {
    expect((await api.run({ ...base(), command: ['cat'], input: 'typed\n', stdout: 'buffer' })).stdout).toBe('typed\n');
    expect((await api.run({ ...base(), command: ['wc', '-c'], input: Buffer.alloc(200_000, 1), stdout: 'buffer' })).stdout!.trim()).toBe('200000');
    expect(await api.run({ ...base(), command: ['cat'], stdout: 'buffer' })).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it("'ignore' gives /dev/null; an fd number gets the output", async () => {
    const ignored = await api.run({ ...base(), command: ['sh', '-c', 'test -c /proc/self/fd/1 && test -c /proc/self/fd/0 && echo null >&2'], stdout: 'ignore', stderr: 'buffer' });
    expect(ignored.stderr).toBe('null\n');
    const path = join(scratch, 'out.txt');
    const fd = openSync(path, 'w');
    try {
      await api.run({ ...base(), command: ['echo', 'to a file'], stdout: fd });
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe('to a file\n');
  });

  it("'inherit' shares the caller's stdin and stdout", async () => {
    const script = `
      const { run } = await import(${JSON.stringify(API_ENTRY)});
      const r = await run({ rootfs: ${JSON.stringify(rootfsTar())}, root: ${JSON.stringify(testRoot())}, command: ['sh', '-c', 'read line; echo "got $line"'], stdin: 'inherit', stdout: 'inherit' });
      console.log('status', r.exitCode);
    `;
    const child = execFile(process.execPath, ['--input-type=module', '-e', script]);
    child.stdin!.end('from the caller\n');
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await new Promise((resolve) => child.on('close', resolve));
    expect(out).toBe('got from the caller\nstatus 0\n');
  });
});

describe('run(): timeout and AbortSignal', () => {
  it('a timeout kills the container, reclaims it, and says so', async () => {
    const r = await api.run({ ...base(), command: ['sleep', '961'], timeout: 1500 });
    expect(r).toMatchObject({ reason: 'timeout', exitCode: 137, signal: 'SIGKILL' });
    expect(processesRunning(['sleep', '961'])).toEqual([]);
    expect(leftOf(r.id)).toEqual([]);
  });

  it('a timeout during setup stops the setup and leaves nothing', async () => {
    const r = await api.run({ ...base(), command: ['sleep', '962'], timeout: 1 });
    expect(r).toMatchObject({ reason: 'timeout', exitCode: 137, signal: 'SIGKILL', stats: null });
    // Stopped in the setup: inside a step, or (the run's modules still loading) before the first.
    expect(r.error!.message).toMatch(/^(interrupted by SIGKILL during setup|the timeout expired before the container started)/);
    expect(processesRunning(['sleep', '962'])).toEqual([]);
    expect(leftOf(r.id)).toEqual([]);
  });

  it('aborting kills the running container, reclaims it, and says so', async () => {
    const abort = new AbortController();
    const c = api.run({ ...base(), command: ['sh', '-c', 'echo started; exec sleep 963'], stdout: 'pipe', signal: abort.signal });
    c.stdout!.once('data', () => abort.abort());
    const r = await c;
    expect(r).toMatchObject({ reason: 'aborted', exitCode: 137, signal: 'SIGKILL', error: null });
    expect(processesRunning(['sleep', '963'])).toEqual([]);
    expect(leftOf(r.id)).toEqual([]);
  });

  it('an already aborted signal starts nothing', async () => {
    const r = await api.run({ ...base(), command: ['sleep', '964'], signal: AbortSignal.abort() });
    expect(r).toMatchObject({ reason: 'aborted', exitCode: 137 });
    expect(r.error!.message).toMatch(/before the container started/);
    expect(leftOf(r.id)).toEqual([]);
  });

  it('a command that ends before its timeout exited, whatever the timer does later', async () => {
    const r = await api.run({ ...base(), command: ['true'], timeout: 60_000 });
    expect(r).toMatchObject({ reason: 'exited', exitCode: 0 });
  });
});

describe('the lifecycle: runDetached, ps, inspect, exec, stats, logs, stop, kill, wait, rm', () => {
  it('drives a detached container from start to removal, on the records the CLI sees', async () => {
    const name = `${P}svc`;
    const root = testRoot();
    const { id, pid } = await api.runDetached({ ...base(), name, command: ['sh', '-c', 'trap "echo bye; exit 7" TERM; echo up; echo warn >&2; while true; do sleep 0.1; done'] });
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(pid).toBeGreaterThan(0);

    const listed = (await api.ps({ root })).find((c) => c.name === name);
    expect(listed).toMatchObject({ id, status: 'running' });
    expect(listed!.state).toMatch(/^Up /);
    expect((await tsbox(['ps', '--format', 'json'])).stdout).toContain(id); // the CLI sees it too

    const details = await api.inspect(name, { root });
    expect(details).toMatchObject({ id, name, detached: true });
    expect(details.spec!.process.args[0]).toBe('sh');
    expect(details.mounts.some((m) => m.target === '/')).toBe(true);

    const ex = await api.exec(name, ['sh', '-c', 'echo "$X $(pwd)"; cat; echo e >&2'], { root, env: ['X=1'], workdir: '/tmp', input: 'in\n', stdout: 'buffer', stderr: 'buffer' });
    expect(ex).toMatchObject({ id, reason: 'exited', exitCode: 0, stdout: '1 /tmp\nin\n', stderr: 'e\n', error: null });
    const missing = await api.exec(name, ['no-such-command'], { root });
    expect(missing).toMatchObject({ reason: 'exited', exitCode: 127 });
    expect(missing.error!.step).toBe('find command');

    const [row] = await api.stats([name], { root, intervalMs: 100 });
    expect(row).toMatchObject({ id, name });

    // Once 'warn' is logged, the shell's TERM trap is set (stop below relies on it).
    await until('the output to be logged', async () => (await api.logs(name, { root })).stderr === 'warn\n');
    expect(await api.logs(name, { root, tail: 2 })).toEqual({ stdout: 'up\n', stderr: 'warn\n' });
    // tail counts the lines of both streams together (as tsbox logs --tail): one of the two.
    const last = await api.logs(name, { root, tail: 1 });
    expect(last.stdout + last.stderr).toMatch(/^(up|warn)\n$/);

    expect(await api.wait(name, { root, timeout: 100 })).toBeNull();
    const stopped = await api.stop(name, { root, time: 10 });
    expect(stopped).toMatchObject({ status: 'exited', exitCode: 7 });
    expect((await api.wait(name, { root }))!.exitCode).toBe(7);
    expect((await api.logs(name, { root })).stdout).toBe('up\nbye\n');

    await api.rm(name, { root });
    expect((await api.ps({ all: true, root })).some((c) => c.id === id)).toBe(false);
    expect(leftOf(id)).toEqual([]);
  });

  it('kill sends the signal; exec can be timed out and aborted; rm refuses a running container unless forced', async () => {
    const name = `${P}hung`;
    const root = testRoot();
    await api.runDetached({ ...base(), name, command: ['sleep', '965'] });
    const timed = await api.exec(name, ['sleep', '966'], { root, timeout: 300 });
    expect(timed).toMatchObject({ reason: 'timeout', exitCode: 137, signal: 'SIGKILL' });
    const abort = new AbortController();
    const c = api.exec(name, ['sh', '-c', 'echo go; exec sleep 967'], { root, stdout: 'pipe', signal: abort.signal });
    c.stdout!.once('data', () => abort.abort());
    expect(await c).toMatchObject({ reason: 'aborted', exitCode: 137, error: null });
    await until('the execs to be gone', () => processesRunning(['sleep', '966']).length + processesRunning(['sleep', '967']).length === 0);

    await expect(api.rm(name, { root })).rejects.toMatchObject({ name: 'UsageError', exitCode: 125 });
    await api.kill(name, { root, signal: 'SIGKILL' });
    expect(await api.wait(name, { root })).toMatchObject({ status: 'exited', exitCode: 137 });
    await expect(api.exec(name, ['true'], { root })).rejects.toMatchObject({ name: 'UsageError', exitCode: 125, message: `container ${name} is not running` });
    await expect(api.kill(name, { root })).rejects.toMatchObject({ exitCode: 125 });
    await api.rm(name, { root });
    await expect(api.inspect(name, { root })).rejects.toMatchObject({ exitCode: 125, message: `no such container: ${name}` });
  });

  it('runDetached refuses what a detached container cannot have (stdio, timeout)', async () => {
    await expect(api.runDetached({ ...base(), stdout: 'pipe' } as never)).rejects.toMatchObject({ name: 'UsageError', step: 'runDetached', message: "unknown option 'stdout'" });
    await expect(api.runDetached({ ...base(), timeout: 5 } as never)).rejects.toMatchObject({ name: 'UsageError', message: "unknown option 'timeout'" });
  });
});

describe('logs', () => {
  it('--debug logs each setup step with its syscalls, as JSON on stderr', async () => {
    const r = await tsbox(['run', '--debug', rootfsTar(), 'true']);
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; step?: string; level: number });
    const msgs = lines.map((l) => l.msg).join('\n');
    expect(msgs).toMatch(/prepare rootfs/);
    expect(msgs).toMatch(/create cgroup/);
    expect(msgs).toMatch(/^mount\("overlay", ".*", "overlay", /m);
    expect(msgs).toMatch(/^pivot_root\("\.", "\."\) = 0/m);
    // Symbolic flags, and the calls made before the plan said to trace (issue 15).
    expect(msgs).toMatch(/^unshare\(CLONE_NEWNS\|CLONE_NEWUTS\|CLONE_NEWIPC\|CLONE_NEWPID\|CLONE_NEWNET\) = 0$/m);
    expect(msgs).toMatch(/^prctl\(PR_SET_PDEATHSIG, SIGKILL\) = 0$/m);
    expect(msgs).toMatch(/^prctl\(PR_SET_DUMPABLE, 0\) = 0$/m);
    expect(msgs).toMatch(/^prctl\(PR_CAPBSET_DROP, CAP_NET_RAW\) = 0$/m);
    expect(msgs).toMatch(/^unshare\(CLONE_NEWCGROUP\) = 0$/m);
    expect(msgs).toMatch(/^sethostname\(/m);
    expect(lines.find((l) => l.msg === 'run spec')).toBeDefined();
  });

  it('is silent at the default level, and pretty with --log-format pretty', async () => {
    expect((await tsbox(['run', rootfsTar(), 'true'])).stderr).toBe('');
    const pretty = await tsbox(['run', '--log-level', 'debug', '--log-format', 'pretty', rootfsTar(), 'true']);
    expect(pretty.stderr).toMatch(/DEBUG.*prepare rootfs/);
  });
});
