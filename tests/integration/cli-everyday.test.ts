/**
 * What a docker user meets on day one (issue 16): tsbox with no arguments, --help of every
 * command, the resource report saying "not measured" rather than 0, flags that must work
 * with -d and --name or be refused, and every command run by a user who is not root.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findCgroup2Mount } from '../../src/cgroups/index.js';
import { rootfsTar, testRoot, tsbox, TSBOX_BIN } from '../helpers/tsbox.js';

const P = `ed${process.pid}-`;
const scratch = mkdtempSync('/var/tmp/tsbox-everyday-');
chmodSync(scratch, 0o755);

afterAll(async () => {
  const out = await tsbox(['ps', '-a', '--format', 'json']);
  const left = out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name: string | null; id: string }).filter((r) => (r.name ?? '').startsWith(P));
  if (left.length > 0) await tsbox(['rm', '-f', ...left.map((r) => r.id)]);
  rmSync(scratch, { recursive: true, force: true });
});

async function psAll(): Promise<{ id: string; name: string | null }[]> {
  const r = await tsbox(['ps', '-a', '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; name: string | null });
}

/** Polls a condition (no fixed sleeps): resolves when it holds, fails with `what` after the deadline. */
async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

describe('help', () => {
  it('tsbox with no arguments prints the help on stdout and exits 0, as docker', async () => {
    const r = await tsbox([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tsbox /);
    expect(r.stderr).toBe('');
    const group = await tsbox(['rootfs']);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/^Usage: tsbox rootfs /);
    expect(group.stderr).toBe('');
  });

  it('--help of every command exits 0 with its usage on stdout', async () => {
    const top = await tsbox(['--help']);
    expect(top.code).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}(\w[\w-]*)(?:\|\w+)? /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['run', 'ps', 'exec', 'logs', 'stop', 'rm', 'stats', 'gc', 'prune', 'rootfs']));
    const rootfs = await tsbox(['rootfs', '--help']);
    const sub = [...rootfs.stdout.matchAll(/^ {2}(\w[\w-]*)(?:\|\w+)? /gm)].map((m) => ['rootfs', m[1]!]).filter((c) => c[1] !== 'help');
    expect(sub.length).toBeGreaterThan(2);
    for (const args of [...commands.map((c) => [c]), ...sub]) {
      const r = await tsbox([...args, '--help']);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^Usage: tsbox ${args.join(' ')}[ |]`));
    }
  });

  it('the common flags work before the command too, as podman --root DIR ps', async () => {
    const r = await tsbox(['--root', testRoot(), 'run', '--rm', rootfsTar(), 'echo', 'hi']);
    expect(r).toMatchObject({ code: 0, stdout: 'hi\n', stderr: '' });
    const listed = await tsbox(['--root', testRoot(), '--log-level', 'error', 'network', 'ls']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^NAME +SUBNET/);
  });

  it('an unknown command is still one line and 125', async () => {
    const r = await tsbox(['no-such-command']);
    expect(r.code).toBe(125);
    expect(oneLine(r.stderr)).toMatch(/^tsbox: unknown command 'no-such-command'/);
  });
});

describe('the resource report says what it did not measure', () => {
  const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
  const controllers = mount ? readFileSync(join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/) : [];

  it('--stats and --stats-file: null / n/a where this host has no such file, numbers where it has', async () => {
    const file = join(scratch, 'stats.json');
    // 4 MiB written and fsynced to a volume: a report that says 0 would be a lie.
    const r = await tsbox(['run', '--stats', '--stats-file', file, '-v', `${scratch}:/out`, rootfsTar(), 'sh', '-c', 'dd if=/dev/zero of=/out/data bs=1M count=4 conv=fsync 2>/dev/null']);
    expect(r.code, r.stderr).toBe(0);
    const line = oneLine(r.stderr);
    const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (controllers.includes('io')) {
      expect(line).toMatch(/io read \S+B written \S+B/);
      expect(record.ioWriteBytes).toEqual(expect.any(Number));
    } else {
      expect(line).toMatch(/io read n\/a written n\/a/);
      expect(record.ioReadBytes).toBeNull();
      expect(record.ioWriteBytes).toBeNull();
    }
    if (!controllers.includes('memory')) {
      expect(line).toMatch(/memory peak n\/a/);
      expect(record.memoryPeakBytes).toBeNull();
      expect(record.oomKills).toBeNull();
    }
    if (!controllers.includes('pids')) {
      expect(line).toMatch(/pids peak n\/a/);
      expect(record.pidsPeak).toBeNull();
    }
    // eth0's bytes are measured (numbers), and may truly be 0: the command sent nothing, and
    // whether the kernel's IPv6 link-up packets (MLD, router solicitation) went out before the
    // exit is timing. Everything else measured here did happen.
    expect(line).toMatch(/net rx \S+B tx \S+B$/);
    expect(line.replace(/net rx \S+B tx \S+B$/, '')).not.toMatch(/\b0B\b/);
  });
});

describe('run flags with -d and --name: each works or is refused in one line', () => {
  it('run -d --rm: the monitor removes the container when it exits', async () => {
    const r = await tsbox(['run', '-d', '--rm', '--name', `${P}rm`, rootfsTar(), 'sh', '-c', 'echo hi']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    await until('the container has left ps -a', async () => !(await psAll()).some((c) => c.id === id));
    expect(readdirSync(join(testRoot(), 'containers')).filter((d) => id.startsWith(d))).toEqual([]);
  });

  it('run -d --rm: logs while it runs, and wait prints its exit status before it is removed (docker habits)', async () => {
    // Before: a --rm container under a monitor recorded no output, and wait failed with
    // "removed while waiting" since the record went with the exit status.
    const gate = join(scratch, 'rm-wait-gate');
    rmSync(gate, { force: true });
    const r = await tsbox(['run', '-d', '--rm', '-v', `${scratch}:/s`, '--name', `${P}rmwait`, rootfsTar(), 'sh', '-c', 'echo started; while [ ! -e /s/rm-wait-gate ]; do sleep 0.05; done; exit 3']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    await until('its output is in its log', async () => (await tsbox(['logs', `${P}rmwait`])).stdout === 'started\n');
    const waited = tsbox(['wait', id]);
    // The monitor has accepted the waiter: /proc/net/unix then names the socket twice (the listener, the accepted end).
    const sock = join(testRoot(), 'containers', id.slice(0, 12), 'wait.sock');
    await until('the waiter is connected', () => readFileSync('/proc/net/unix', 'utf8').split('\n').filter((l) => l.endsWith(` ${sock}`)).length >= 2);
    writeFileSync(gate, '');
    expect(await waited).toMatchObject({ code: 0, stdout: '3\n', stderr: '' });
    await until('the container has left ps -a', async () => !(await psAll()).some((c) => c.id === id));
  });

  it('stop and rm -f of a running -d --rm container: done, and it is gone', async () => {
    for (const [name, args] of [[`${P}rmstop`, ['stop', '-t', '1']], [`${P}rmforce`, ['rm', '-f']]] as const) {
      const r = await tsbox(['run', '-d', '--rm', '--name', name, rootfsTar(), 'sleep', '60']);
      expect(r.code, r.stderr).toBe(0);
      const done = await tsbox([...args, name]);
      expect({ args, code: done.code, stderr: done.stderr, stdout: done.stdout.trim() }).toEqual({ args, code: 0, stderr: '', stdout: args[0] === 'stop' ? name : expect.any(String) });
      await until(`${name} has left ps -a`, async () => !(await psAll()).some((c) => c.name === name));
    }
  });

  it('run --name --rm in the foreground: removed at exit, the name is free again', async () => {
    const first = await tsbox(['run', '--rm', '--name', `${P}fg`, rootfsTar(), 'true']);
    expect(first.code, first.stderr).toBe(0);
    expect((await psAll()).some((c) => c.name === `${P}fg`)).toBe(false);
  });

  it('run -d --stats-file F: the monitor writes F when the container exits, before wait returns', async () => {
    const file = join(scratch, 'detached-stats.json');
    const r = await tsbox(['run', '-d', '--name', `${P}sf`, '--stats-file', file, rootfsTar(), 'sh', '-c', 'exit 3']);
    expect(r.code, r.stderr).toBe(0);
    const waited = await tsbox(['wait', `${P}sf`]);
    expect(waited.stdout.trim()).toBe('3');
    const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ id: r.stdout.trim(), exitCode: 3, oomKilled: false });
    expect(record.wallMs).toEqual(expect.any(Number));
    expect((await tsbox(['rm', `${P}sf`])).code).toBe(0);
  });

  it.each([
    [['-d', '--stats'], /--stats and -d cannot be combined/],
    [['-d', '-i'], /-i and -d cannot be combined/],
    [['-d', '-t'], /-t and -d cannot be combined/],
  ])('run %j is refused with one line, 125, and nothing left', async (flags, message) => {
    const before = (await psAll()).length;
    const r = await tsbox(['run', ...flags, '--name', `${P}refused`, rootfsTar(), 'true']);
    expect(r.code).toBe(125);
    expect(oneLine(r.stderr)).toMatch(message);
    expect(r.stdout).toBe('');
    expect((await psAll()).length).toBe(before);
  });

  it('run -d with the rootfs on stdin is refused (the container starts after run returns)', async () => {
    const r = await tsbox(['run', '-d', '-', 'true'], { input: readFileSync(rootfsTar()) });
    expect(r.code).toBe(125);
    expect(oneLine(r.stderr)).toMatch(/rootfs on stdin \("-"\) and -d cannot be combined/);
  });

  it('the other run flags work with -d and --name', async () => {
    const vol = join(scratch, 'vol');
    const env = join(scratch, 'env');
    mkdirSync(vol, { recursive: true, mode: 0o777 });
    chmodSync(vol, 0o777); // -u 1:1 writes there
    spawnSync('sh', ['-c', `echo FROM_FILE=yes > ${env}`]);
    const script = 'echo "$A $FROM_FILE $(pwd) $(hostname) $(id -u):$(id -g)"; echo v > /vol/x; touch /ro 2>/dev/null || echo ro; mount | grep -c " /scratch type tmpfs"';
    const r = await tsbox(['run', '-d', '--name', `${P}all`, '-e', 'A=a', '--env-file', env, '-w', '/vol', '-u', '1:1', '-v', `${vol}:/vol`, '--tmpfs', '/scratch', '--hostname', 'h1', '--read-only', '--max-rootfs-size', '1g', '--cap-drop', 'ALL', '--init', rootfsTar(), 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    expect((await tsbox(['wait', `${P}all`])).stdout.trim()).toBe('0');
    const logs = await tsbox(['logs', `${P}all`]);
    expect(logs.stdout.split('\n')).toEqual(['a yes /vol h1 1:1', 'ro', '1', '']);
    expect(readFileSync(join(vol, 'x'), 'utf8')).toBe('v\n');
    expect((await tsbox(['rm', `${P}all`])).code).toBe(0);
  });
});

describe('without root', () => {
  const asNobody = (args: string[], env: Record<string, string> = {}) =>
    spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', TSBOX_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });

  it('every command, with the default state root, says it needs root in one line, 125', () => {
    const tar = join(scratch, 'rootfs.tar');
    copyFileSync(rootfsTar(), tar);
    chmodSync(tar, 0o644);
    const commands = [
      ['run', tar, 'true'], ['run', '-d', tar, 'true'], ['ps'], ['ps', '-a'], ['inspect', 'x'], ['exec', 'x', 'true'], ['logs', 'x'],
      ['stop', 'x'], ['kill', 'x'], ['rm', 'x'], ['wait', 'x'], ['stats', '--no-stream'], ['gc'], ['prune'],
      ['rootfs', 'ls'], ['rootfs', 'rm', 'abc'], ['rootfs', 'prune'],
    ];
    for (const args of commands) {
      const r = asNobody(args);
      const command = args.filter((a, i) => i === 0 || (args[0] === 'rootfs' && i === 1)).join(' ');
      expect({ args, status: r.status, stdout: r.stdout }).toEqual({ args, status: 125, stdout: '' });
      expect(oneLine(r.stderr)).toMatch(new RegExp(`^tsbox: open state root: tsbox ${command} needs root \\(.*uid 65534 may not write there\\)\\. Run it as root \\(sudo tsbox ${command}\\)`));
    }
    expect(existsSync('/var/lib/tsbox') && readdirSync('/var/lib/tsbox').length > 0 && spawnSync('stat', ['-c', '%u', '/var/lib/tsbox'], { encoding: 'utf8' }).stdout.trim() === '65534').toBe(false);
  });

  it('what needs no state works: rootfs from-host, --help', () => {
    const own = join(scratch, 'nobody');
    mkdirSync(own);
    chownSync(own, 65534, 65534);
    const out = join(own, 'nobody.tar');
    const r = asNobody(['rootfs', 'from-host', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(asNobody(['--help']).status).toBe(0);
    expect(asNobody([]).status).toBe(0);
  });
});

describe('--cgroup-parent from the first group on', () => {
  const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
  const parent = `tsbox-test-parent-${process.pid}`;

  afterAll(() => {
    if (mount && existsSync(join(mount, parent))) rmdirSync(join(mount, parent));
  });

  it('the start-up group is made under --cgroup-parent, never under tsbox/, and a SIGKILL leaves nothing there', async () => {
    expect(mount, 'a cgroup2 hierarchy (tests/setup.sh machines have one)').not.toBeNull();
    let child: import('node:child_process').ChildProcess | undefined;
    let out = '';
    const run = tsbox(['run', '--cgroup-parent', parent, rootfsTar(), 'sh', '-c', 'hostname; exec sleep 60'], {
      onSpawn: (c) => {
        child = c;
        c.stdout!.on('data', (d: Buffer | string) => (out += d.toString()));
      },
      timeoutMs: 60_000,
    });
    let shortId = '';
    try {
      await until('the container printed its id', () => /^[0-9a-f]{12}$/m.test(out));
      shortId = /^([0-9a-f]{12})$/m.exec(out)![1]!;
      expect(existsSync(join(mount!, parent, shortId))).toBe(true);
      expect(existsSync(join(mount!, 'tsbox', shortId))).toBe(false);
    } finally {
      child!.kill('SIGKILL'); // the container dies with it (PDEATHSIG)
      await run;
    }
    expect(existsSync(join(mount!, 'tsbox', shortId))).toBe(false);
    // The run had recorded its group: gc destroys it.
    expect((await tsbox(['gc'])).code).toBe(0);
    expect(existsSync(join(mount!, parent, shortId))).toBe(false);
  });
});

describe('rootfs/.locks after prune', () => {
  it('the extraction locks of removed entries (and of rewritten archives) are removed with them', async () => {
    const root = join(scratch, 'locks-root');
    const tar = join(scratch, 'locks.tar');
    copyFileSync(rootfsTar(), tar);
    const locks = () => readdirSync(join(root, 'rootfs', '.locks'));
    expect((await tsbox(['run', tar, 'true'], { root })).code).toBe(0);
    expect(locks()).toHaveLength(1);
    // The same path rewritten: a new stat key, a new lock; the old one is no longer indexed.
    copyFileSync(rootfsTar(), tar);
    spawnSync('sh', ['-c', `printf x >> ${tar}`]);
    expect((await tsbox(['run', tar, 'true'], { root })).code).toBe(0);
    expect(locks()).toHaveLength(2);
    const pruned = await tsbox(['rootfs', 'prune'], { root });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(locks()).toEqual([]);
  });
});
