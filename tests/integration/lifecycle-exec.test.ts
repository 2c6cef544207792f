/**
 * tsbox exec and tsbox stats against detached containers: exec joins the container's
 * namespaces, root, cgroup and security plan; statuses and errors are docker's; stats
 * reads plausible numbers from the cgroup. Names carry a per-run prefix: other suites may
 * run containers at the same time.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTmux } from '../helpers/tmux.js';
import { rootfsTar, testRoot, tsbox, TSBOX_BIN } from '../helpers/tsbox.js';

const P = `lx${process.pid}-`;
const idle = 'while true; do sleep 0.2; done';

async function ok(args: string[], input?: string): Promise<string> {
  const r = await tsbox(args, input === undefined ? {} : { input });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}

const started: string[] = [];
async function detached(name: string, args: string[]): Promise<Record<string, any>> {
  started.push(`${P}${name}`);
  await ok(['run', '-d', '--name', `${P}${name}`, ...args]);
  return (JSON.parse(await ok(['inspect', `${P}${name}`])) as Record<string, any>[])[0]!;
}

afterAll(async () => {
  if (started.length > 0) await tsbox(['rm', '-f', ...started]);
});

function statusFields(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => /^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):/.test(l)).map((l) => l.split(/:\s+/) as [string, string]));
}

describe('tsbox exec', () => {
  it("sees the container's processes, hostname and files; the container sees its writes", async () => {
    const c = await detached('share', [rootfsTar(), 'sh', '-c', `echo from-container > /tmp/c; while [ ! -f /tmp/x ]; do sleep 0.1; done; cat /tmp/x; exit 5`]);
    const out = await ok(['exec', `${P}share`, 'sh', '-c', 'cat /tmp/c; hostname; ps -o pid,args; echo pid=$$']);
    const lines = out.split('\n');
    expect(lines[0]).toBe('from-container');
    expect(lines[1]).toBe(c.shortId); // the container's UTS namespace
    expect(out).toMatch(/^\s*1\s+sh -c echo from-container/m); // its PID namespace: PID 1 is the container's process
    expect(Number(/pid=(\d+)/.exec(out)![1])).toBeLessThan(100); // a pid of the container's namespace, not the host's
    await ok(['exec', `${P}share`, 'sh', '-c', 'echo from-exec > /tmp/x']);
    expect(await ok(['wait', `${P}share`])).toBe('5\n');
    expect((await tsbox(['logs', `${P}share`])).stdout).toBe('from-exec\n');
  });

  it("has the container's capabilities (not the default set), NoNewPrivs 1, Seccomp 2, and is in its cgroup", async () => {
    const c = await detached('sec', ['--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--cap-add', 'CHOWN', '--security-opt', 'no-new-privileges', rootfsTar(), 'sh', '-c', idle]);
    const out = await ok(['exec', `${P}sec`, 'sh', '-c', 'cat /proc/self/status; echo ===; cat /proc/1/status; echo ===; cat /proc/self/cgroup; echo ===; cat /proc/1/cgroup']);
    const [mine, theirs, myCgroup, theirCgroup] = out.split('===\n');
    const m = statusFields(mine!);
    expect(m).toEqual(statusFields(theirs!));
    expect(m.CapEff).toBe('0000000000001001'); // CHOWN (0) and NET_ADMIN (12), as the container
    expect(m.NoNewPrivs).toBe('1');
    expect(m.Seccomp).toBe('2');
    expect(myCgroup).toBe(theirCgroup);
    expect(myCgroup).toMatch(/^0::\/$/m); // the container's cgroup namespace: its group is the root

    if (c.cgroup) {
      // From the host: the exec'd process is a member of the container's group.
      const running = tsbox(['exec', `${P}sec`, 'sleep', '7']);
      const deadline = Date.now() + 10_000;
      let found = false;
      while (!found && Date.now() < deadline) {
        const pids = readFileSync(join(c.cgroup as string, 'cgroup.procs'), 'utf8').trim().split('\n');
        found = pids.some((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u00007\u0000';
          } catch {
            return false;
          }
        });
        if (!found) await new Promise((r) => setTimeout(r, 100));
      }
      expect(found).toBe(true);
      // ...and, once it runs, only the container's processes are: the exec-init that started it
      // goes back to tsbox's own group when it reports the start, so the container's end cannot
      // kill it before it reports the command's status.
      const containerPidNs = readlinkSync(`/proc/${c.pid}/ns/pid`);
      const pidNsOf = (pid: string) => {
        try {
          return readlinkSync(`/proc/${pid}/ns/pid`);
        } catch {
          return containerPidNs; // gone since the list was read (the container's `sleep 0.2`s come and go)
        }
      };
      const strangers = () => readFileSync(join(c.cgroup as string, 'cgroup.procs'), 'utf8').trim().split('\n').filter((pid) => pidNsOf(pid) !== containerPidNs);
      for (let i = 0; i < 100 && strangers().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(strangers()).toEqual([]);
      await ok(['kill', `${P}sec`]);
      expect((await running).code).toBe(137); // the exec dies with the container's PID namespace
    }
  });

  it("an exec that ends the container reports its command's status, not the container's end", async () => {
    await detached('end', [rootfsTar(), 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.01; done; exit 4']);
    // touch exits 0 and the container ends within ~10 ms: the group is then killed.
    expect((await tsbox(['exec', `${P}end`, 'touch', '/tmp/go'])).code).toBe(0);
    expect(await ok(['wait', `${P}end`])).toBe('4\n');
  });

  it('exit statuses: the command\'s, 126, 127, 128+N; -e, -w, -u; stdin', async () => {
    await detached('st', ['-e', 'FROM_RUN=1', '-w', '/srv', rootfsTar(), 'sh', '-c', idle]);
    expect((await tsbox(['exec', `${P}st`, 'sh', '-c', 'exit 3'])).code).toBe(3);
    const missing = await tsbox(['exec', `${P}st`, '/no/such']);
    expect(missing.code).toBe(127);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect((await tsbox(['exec', `${P}st`, 'nosuchcommand'])).code).toBe(127);
    expect((await tsbox(['exec', `${P}st`, '/etc/passwd'])).code).toBe(126);
    expect((await tsbox(['exec', `${P}st`, 'sh', '-c', 'kill -9 $$'])).code).toBe(137);

    expect(await ok(['exec', `${P}st`, 'sh', '-c', 'echo $FROM_RUN $HOSTNAME; pwd; id -u'])).toMatch(/^1 \w{12}\n\/srv\n0\n$/);
    expect(await ok(['exec', '-e', 'FROM_RUN=2', '-e', 'NEW=x', '-w', '/tmp', '-u', '1000:1000', `${P}st`, 'sh', '-c', 'echo $FROM_RUN $NEW; pwd; id -u; id -g'])).toBe('2 x\n/tmp\n1000\n1000\n');
    expect(await ok(['exec', `${P}st`, 'cat'], 'piped input\n')).toBe('piped input\n');
  });

  it('errors: unknown name, stopped container, no command, -t without a terminal: one line, 125', async () => {
    const unknown = await tsbox(['exec', `${P}nope`, 'true']);
    expect(unknown).toMatchObject({ code: 125, stderr: `tsbox: no such container: ${P}nope. See 'tsbox ps -a'.\n` });

    started.push(`${P}done`);
    await ok(['run', '--name', `${P}done`, rootfsTar(), 'true']);
    const stopped = await tsbox(['exec', `${P}done`, 'true']);
    expect(stopped.code).toBe(125);
    expect(stopped.stderr).toBe(`tsbox: container ${P}done is not running. See 'tsbox ps -a'.\n`);

    await detached('err', [rootfsTar(), 'sh', '-c', idle]);
    const noCommand = await tsbox(['exec', `${P}err`]);
    expect(noCommand.code).toBe(125);
    expect(noCommand.stderr.trim().split('\n')).toHaveLength(1);
    const tty = await tsbox(['exec', '-t', `${P}err`, 'true']);
    expect(tty.code).toBe(125);
    expect(tty.stderr).toMatch(/-t needs a terminal/);
    const badUser = await tsbox(['exec', '-u', 'nosuchuser', `${P}err`, 'true']);
    expect(badUser.code).toBe(125);
    expect(badUser.stderr).toMatch(/^tsbox: resolve user: /);
  });

  it('-it: a terminal from the container\'s devpts, sized like the user\'s, and the exit status', async () => {
    await detached('tty', [rootfsTar(), 'sh', '-c', idle]);
    const session = await startTmux(`TSBOX_ROOT=${testRoot()} ${TSBOX_BIN} exec -it ${P}tty /bin/sh; echo EXIT=$?; sleep 60`, { x: 90, y: 25 });
    try {
      await session.screenShows(/^\/ #/m);
      session.tmux('send-keys', 'tty; stty size; exit 6', 'Enter');
      const s = await session.screenShows(/EXIT=6/);
      expect(s).toMatch(/^\/dev\/pts\/\d+$/m);
      expect(s).toMatch(/^25 90$/m);
    } finally {
      await session.close();
    }
  });

  it('concurrent execs into one container', async () => {
    await detached('many', [rootfsTar(), 'sh', '-c', idle]);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => tsbox(['exec', `${P}many`, 'sh', '-c', `echo $((${i} * 2)); exit ${i}`])));
    results.forEach((r, i) => expect(r).toMatchObject({ code: i, stdout: `${i * 2}\n` }));
  });
});

describe('tsbox stats', () => {
  it('--no-stream: a busy container near 100% CPU or more, an idle one low; memory, limit and pids plausible', async () => {
    await detached('busy', [rootfsTar(), 'sh', '-c', 'while true; do :; done']);
    await detached('calm', [rootfsTar(), 'sh', '-c', 'sleep 1000']);
    const out = await ok(['stats', '--no-stream', '--format', 'json', `${P}busy`, `${P}calm`]);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(rows.map((r) => r.name)).toEqual([`${P}busy`, `${P}calm`]);
    const [busy, calm] = rows as [Record<string, any>, Record<string, any>];
    // One CPU spinning gets what the machine's load leaves it (a few % on a busy shared 2-core
    // machine): more than the sleeping one, never more than every CPU.
    expect(busy.cpuPercent).toBeGreaterThan(calm.cpuPercent);
    expect(busy.cpuPercent).toBeLessThan(100 * 1.2 * 64);
    expect(calm.cpuPercent).toBeLessThan(10);
    for (const r of rows) {
      expect(r.memoryBytes).toBeGreaterThan(100 * 1024); // a busybox shell: more than 100 KiB...
      expect(r.memoryBytes).toBeLessThan(64 * 1024 * 1024); // ...and far less than 64 MiB
      expect(r.memoryLimitBytes).toBeGreaterThanOrEqual(r.memoryBytes);
      expect(r.pids).toBeGreaterThanOrEqual(1);
      expect(r.pids).toBeLessThan(5);
    }
    const table = await ok(['stats', '--no-stream', `${P}busy`]);
    // NET I/O: eth0's received / sent bytes on the default bridge network.
    expect(table).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+PIDS\n[0-9a-f]{12}\s+\S+busy\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\d+\n$/);
  });

  it('streams a table per second until Ctrl-C, then exits 0', async () => {
    await detached('stream', [rootfsTar(), 'sh', '-c', idle]);
    const child = spawn(TSBOX_BIN, ['stats', `${P}stream`], { env: { ...process.env, TSBOX_ROOT: testRoot() } });
    let out = '';
    const tables = () => out.split('CONTAINER ID').length - 1;
    const closed = new Promise((resolve) => child.on('close', (c) => resolve(c)));
    // Ctrl-C once the second table is out (polled: under load a second may take longer).
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (tables() >= 2) resolve();
      });
    });
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    expect(tables()).toBeGreaterThanOrEqual(2);
  });

  it('errors: unknown name and stopped container, 125', async () => {
    expect((await tsbox(['stats', '--no-stream', `${P}nope`])).code).toBe(125);
    started.push(`${P}gone`);
    await ok(['run', '--name', `${P}gone`, rootfsTar(), 'true']);
    const stopped = await tsbox(['stats', '--no-stream', `${P}gone`]);
    expect(stopped.code).toBe(125);
    expect(stopped.stderr).toMatch(/is not running/);
  });
});
