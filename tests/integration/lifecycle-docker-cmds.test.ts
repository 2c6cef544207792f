/**
 * The commands and flags a docker user types, on real containers: --label, ps -q/--filter/
 * --format, rename, logs --timestamps/--since with --log-opt rotation, attach, top, and cp
 * both ways, including symlinks in the container that point at host paths (a scratch dir).
 * Names carry a per-run prefix: other suites run containers at the same time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { rootfsTar, testRoot, tsbox, TSBOX_BIN } from '../helpers/tsbox.js';

const P = `dc${process.pid}-`;
const scratch = mkdtempSync('/var/tmp/tsbox-dc-');
const idle = 'trap "exit 0" TERM; while true; do sleep 0.1; done';

async function ok(args: string[], env?: Record<string, string>): Promise<string> {
  const r = await tsbox(args, { env });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}
async function fails(args: string[], message: RegExp, env?: Record<string, string>, input?: Buffer): Promise<void> {
  const r = await tsbox(args, { env, input });
  expect(r.code, args.join(' ')).toBe(125);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
}
async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const mineNames = async () => (await ok(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter((n) => n.startsWith(P));

afterAll(async () => {
  const left = await mineNames();
  if (left.length > 0) await tsbox(['rm', '-f', ...left]);
  rmSync(scratch, { recursive: true, force: true });
});

describe('labels and ps', () => {
  it('--label/--label-file are recorded, shown by inspect, and drive ps -q, --filter and --format', async () => {
    const labelFile = join(scratch, 'labels');
    writeFileSync(labelFile, '# team labels\nteam=core\nenv=file\n');
    const a = (await ok(['run', '-d', '--name', `${P}a`, '--label-file', labelFile, '--label', 'env=ci', '-l', 'flag', rootfsTar(), 'sh', '-c', idle])).trim();
    const b = (await ok(['run', '-d', '--name', `${P}b`, '--label', 'env=prod', rootfsTar(), 'sh', '-c', 'exit 3'])).trim();
    await ok(['wait', `${P}b`]);

    const [inspected] = JSON.parse(await ok(['inspect', `${P}a`])) as { labels: Record<string, string> }[];
    expect(inspected!.labels).toEqual({ team: 'core', env: 'ci', flag: '' });

    expect((await ok(['ps', '-q', '--filter', `name=^${P}`])).trim().split('\n')).toEqual([a.slice(0, 12)]);
    expect((await ok(['ps', '-aq', '--no-trunc', '--filter', `name=^${P}`])).trim().split('\n').sort()).toEqual([a, b].sort());
    // a status filter shows exited containers without -a, as docker
    expect(await ok(['ps', '--filter', 'status=exited', '--filter', `name=^${P}`, '--format', '{{.Names}} {{.State}} {{.Status}}'])).toMatch(new RegExp(`^${P}b exited Exited \\(3\\) .* ago\\n$`));
    expect(await ok(['ps', '-a', '--filter', 'label=env=prod', '--filter', `name=^${P}`, '--format', '{{.Names}}'])).toBe(`${P}b\n`);
    expect(await ok(['ps', '-a', '--filter', 'label=env', '--filter', 'label=team', '--filter', `name=^${P}`, '--format', '{{.Names}}'])).toBe(`${P}a\n`);
    expect(await ok(['ps', '-a', '--filter', `id=${b.slice(0, 8)}`, '--format', '{{.ID}}'])).toBe(`${b.slice(0, 12)}\n`);
    expect(await ok(['ps', '-a', '--filter', `name=${P}a`, '--filter', `name=${P}b`, '--format', '{{.Names}}'])).toMatch(new RegExp(`^(${P}a\\n${P}b|${P}b\\n${P}a)\\n$`));

    const table = (await ok(['ps', '--filter', `name=^${P}a$`, '--format', 'table {{.ID}}\\t{{.Names}}\\t{{.Label "team"}}\\t{{.Labels}}'])).split('\n');
    expect(table[0]).toMatch(/^CONTAINER ID {8}NAMES {15}TEAM {16}LABELS$/);
    expect(table[1]).toBe(`${a.slice(0, 12).padEnd(20)}${`${P}a`.padEnd(20)}${'core'.padEnd(20)}env=ci,flag=,team=core`);
    const json = JSON.parse(await ok(['ps', '--filter', `name=^${P}a$`, '--format', '{{json .}}'])) as Record<string, string>;
    expect(json).toMatchObject({ ID: a.slice(0, 12), Names: `${P}a`, State: 'running', Labels: 'env=ci,flag=,team=core', Image: rootfsTar() });

    await fails(['ps', '--format', '{{.Nope}}'], /^tsbox: invalid --format '\{\{\.Nope\}\}': can't evaluate field Nope/);
    await fails(['ps', '--filter', 'colour=red'], /unknown filter 'colour'/);
    await fails(['run', '--label', '=x', rootfsTar(), 'true'], /label name is empty/);
    await fails(['run', '--label-file', join(scratch, 'missing'), rootfsTar(), 'true'], /cannot read --label-file/);
    await ok(['rm', '-f', `${P}a`, `${P}b`]);
  });
});

describe('rename', () => {
  it('renames a running container; names stay unique and valid', async () => {
    await ok(['run', '-d', '--name', `${P}r1`, rootfsTar(), 'sh', '-c', idle]);
    await ok(['run', '-d', '--name', `${P}r2`, rootfsTar(), 'sh', '-c', idle]);
    expect(await ok(['rename', `${P}r1`, `${P}r3`])).toBe('');
    expect((await mineNames()).sort()).toEqual([`${P}r2`, `${P}r3`]);
    await fails(['rename', `${P}r3`, `${P}r2`], /the container name '.*r2' is already in use/);
    await fails(['rename', `${P}r3`, `${P}r3`], /already named/);
    await fails(['rename', `${P}r3`, 'bad/name'], /invalid name 'bad\/name'/);
    await fails(['rename', `${P}nope`, `${P}x`], /no such container/);
    // the new name works everywhere
    expect(await ok(['exec', `${P}r3`, 'echo', 'hi'])).toBe('hi\n');
    await ok(['rm', '-f', `${P}r3`, `${P}r2`]);
  });
});

describe('logs --timestamps, --since and --log-opt rotation', () => {
  it('timestamps every line; --since a time or a duration; both streams in order', async () => {
    await ok(['run', '-d', '--name', `${P}l`, rootfsTar(), 'sh', '-c', 'echo one; echo two >&2; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo three; while [ ! -e /tmp/go2 ]; do sleep 0.05; done; printf partial']);
    await waitFor(async () => (await tsbox(['logs', `${P}l`])).stderr === 'two\n');
    await ok(['exec', `${P}l`, 'touch', '/tmp/go']);
    await waitFor(async () => (await tsbox(['logs', `${P}l`])).stdout === 'one\nthree\n');
    await ok(['exec', `${P}l`, 'touch', '/tmp/go2']);
    expect(await ok(['wait', `${P}l`])).toBe('0\n');

    const stamped = await tsbox(['logs', '-t', `${P}l`]);
    const lines = stamped.stdout.split('\n');
    expect(lines).toHaveLength(3); // one, three, partial (no newline at the end)
    const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$/;
    expect(lines.map((l) => stamp.exec(l)?.[2])).toEqual(['one', 'three', 'partial']);
    expect(stamped.stderr).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z two\n$/);
    expect(await tsbox(['logs', `${P}l`])).toMatchObject({ code: 0, stdout: 'one\nthree\npartial', stderr: 'two\n' });

    // --since the time of "three": only what came from then on
    const threeAt = stamp.exec(lines[1]!)![1]!;
    expect(await tsbox(['logs', '--since', threeAt, `${P}l`])).toMatchObject({ code: 0, stdout: 'three\npartial', stderr: '' });
    expect((await tsbox(['logs', '--until', threeAt, `${P}l`])).stdout).toBe('one\nthree\n');
    expect((await tsbox(['logs', '--since', '10m', `${P}l`])).stdout).toBe('one\nthree\npartial');
    expect((await tsbox(['logs', '--since', '2000-01-01', '--tail', '1', `${P}l`])).stdout).toBe('partial');
    await fails(['logs', '--since', 'lately', `${P}l`], /invalid --since 'lately'/);
    await ok(['rm', `${P}l`]);
  });

  it('--log-opt max-size/max-file bounds the log; logs reads the rotated files in order', async () => {
    const id = (await ok(['run', '-d', '--name', `${P}rot`, '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', rootfsTar(), 'sh', '-c', 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo "line $i"; done'])).trim();
    expect(await ok(['wait', `${P}rot`])).toBe('0\n');
    const dir = join(testRoot(), 'containers', id.slice(0, 12));
    const files = readdirSync(dir).filter((f) => f.startsWith('container.log')).sort();
    expect(files).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2048);
    // What is left is the newest output, contiguous, oldest first, ending with the last line.
    const shown = (await ok(['logs', `${P}rot`])).trim().split('\n').map((l) => Number(/^line (\d+)$/.exec(l)?.[1]));
    expect(shown.at(-1)).toBe(400);
    expect(shown.length).toBeGreaterThan(50);
    expect(shown.length).toBeLessThan(400);
    expect(shown).toEqual(shown.map((_, i) => shown[0]! + i));
    expect((await ok(['logs', '--tail', '2', `${P}rot`]))).toBe('line 399\nline 400\n');
    await fails(['run', '-d', '--log-opt', 'max-file=2', rootfsTar(), 'true'], /max-file needs max-size/);
    await fails(['run', '-d', '--log-opt', 'mode=non-blocking', rootfsTar(), 'true'], /unknown --log-opt 'mode=non-blocking'/);
    await fails(['run', '--log-opt', 'max-size=1m', rootfsTar(), 'true'], /--log-opt needs -d or --name/);
    // a named foreground run keeps a bounded log too
    expect((await tsbox(['run', '--name', `${P}rotfg`, '--log-opt', 'max-size=1k,max-file=2', rootfsTar(), 'sh', '-c', 'i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo "l $i"; done'])).code).toBe(0);
    expect((await ok(['logs', '--tail', '1', `${P}rotfg`]))).toBe('l 100\n');
    const fgId = (await ok(['ps', '-aq', '--no-trunc', '--filter', `name=^${P}rotfg$`])).trim();
    expect(readdirSync(join(testRoot(), 'containers', fgId.slice(0, 12))).filter((f) => f.startsWith('container.log')).sort()).toEqual(['container.log', 'container.log.1']);
    await ok(['rm', `${P}rotfg`]);
    await ok(['rm', `${P}rot`]);
  });

  it('logs -f follows across rotations, even several between two of its reads', async () => {
    // Batches of 40 lines (~2 KB: two rotations of 1 KB files), each released by the test once
    // the follower printed the previous one; max-file=3 keeps what it has not read yet.
    const script = 'for b in 1 2 3 4; do while [ ! -e /tmp/go$b ]; do sleep 0.02; done; i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "n $(( (b-1)*40 + i ))"; done; done';
    await ok(['run', '-d', '--name', `${P}fol`, '--log-opt', 'max-size=1k,max-file=3', rootfsTar(), 'sh', '-c', script]);
    let out = '';
    const follow = new Promise<number | null>((resolve) => {
      const child = spawn(TSBOX_BIN, ['logs', '-f', `${P}fol`], { env: { ...process.env, TSBOX_ROOT: testRoot() } });
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('close', resolve);
    });
    for (const b of [1, 2, 3, 4]) {
      await ok(['exec', `${P}fol`, 'touch', `/tmp/go${b}`]);
      await waitFor(() => out.includes(`n ${b * 40}\n`));
    }
    expect(await follow).toBe(0);
    expect(out.trim().split('\n')).toEqual(Array.from({ length: 160 }, (_, i) => `n ${i + 1}`));
    await ok(['rm', `${P}fol`]);
  });
});

describe('attach', () => {
  it('follows the output from now on and exits with the container\'s status', async () => {
    await ok(['run', '-d', '--name', `${P}at`, rootfsTar(), 'sh', '-c', 'echo before; i=0; while [ ! -e /tmp/go ]; do i=$((i+1)); echo "tick $i"; echo "etick $i" >&2; sleep 0.05; done; echo after; exit 5']);
    await waitFor(async () => (await tsbox(['logs', `${P}at`])).stdout.includes('tick 2\n'));
    let out = '';
    let err = '';
    const attached = new Promise<number | null>((resolve) => {
      const child = spawn(TSBOX_BIN, ['attach', `${P}at`], { env: { ...process.env, TSBOX_ROOT: testRoot() }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('close', resolve);
    });
    // It is reading once it showed a tick: only then let the container finish.
    await waitFor(() => /tick \d+\n/.test(out));
    await ok(['exec', `${P}at`, 'touch', '/tmp/go']);
    expect(await attached).toBe(5);
    expect(out).not.toContain('before');
    expect(out).not.toContain('tick 1\n');
    expect(out.endsWith('after\n')).toBe(true);
    expect(err).toMatch(/^etick \d+\n/);
    await fails(['attach', `${P}at`], /is not running/);
    await ok(['rm', `${P}at`]);
  });
});

describe('top', () => {
  it("lists the container's processes with ps -ef's columns, or the host ps's for ps options", async () => {
    await ok(['run', '-d', '--name', `${P}top`, rootfsTar(), 'sh', '-c', 'sleep 1000 & sleep 1001 & wait']);
    const pid = (await ok(['ps', '--filter', `name=^${P}top$`, '--format', '{{.Pid}}'])).trim();
    await waitFor(async () => (await ok(['top', `${P}top`])).includes('sleep 1001'));
    const lines = (await ok(['top', `${P}top`])).trim().split('\n');
    expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(new RegExp(`^root\\s+${pid}\\s+\\d+\\s+\\d+\\s+\\S+\\s+\\?\\s+\\d\\d:\\d\\d:\\d\\d sh -c sleep 1000 & sleep 1001 & wait$`));
    expect(lines.slice(2).map((l) => l.replace(/^.* (sleep \d+)$/, '$1')).sort()).toEqual(['sleep 1000', 'sleep 1001']);
    for (const l of lines.slice(2)) expect(l.split(/\s+/)[2]).toBe(pid); // children of the container's PID 1
    const custom = (await ok(['top', `${P}top`, '-o', 'pid,comm'])).trim().split('\n');
    expect(custom[0]).toMatch(/^\s*PID COMMAND$/);
    expect(custom.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort()).toEqual(['sh', 'sleep', 'sleep']);
    await fails(['top', `${P}top`, '-o', 'comm'], /no PID column/);
    await ok(['rm', '-f', `${P}top`]);
    await fails(['top', `${P}top`], /no such container/);
  });
});

describe('cp', () => {
  it('copies files and directories both ways, by docker\'s rules', async () => {
    const src = join(scratch, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'sub', 'b.sh'), '#!/bin/sh\necho b\n');
    chmodSync(join(src, 'sub', 'b.sh'), 0o750);
    symlinkSync('a.txt', join(src, 'link'));
    await ok(['run', '-d', '--name', `${P}cp`, rootfsTar(), 'sh', '-c', `mkdir /data; echo inside > /data/in.txt; chmod 4755 /data/in.txt; ${idle}`]);
    await waitFor(async () => (await tsbox(['exec', `${P}cp`, 'test', '-e', '/data/in.txt'])).code === 0);

    expect(await ok(['cp', src, `${P}cp:/data`])).toBe(''); // a directory into an existing one
    expect(await ok(['exec', `${P}cp`, 'sh', '-c', 'cat /data/src/a.txt; readlink /data/src/link; stat -c %a /data/src/sub/b.sh; /data/src/sub/b.sh'])).toBe('alpha\na.txt\n750\nb\n');
    await ok(['cp', join(src, 'a.txt'), `${P}cp:/data/renamed.txt`]); // a file to a new name
    await ok(['cp', join(src, '.'), `${P}cp:/data/contents`]); // "/." : a new directory with the contents
    expect(await ok(['exec', `${P}cp`, 'sh', '-c', 'cat /data/renamed.txt; ls /data/contents'])).toBe('alpha\na.txt\nlink\nsub\n');
    await ok(['cp', join(src, 'a.txt'), `${P}cp:data/in.txt`]); // over a file; the leading / is optional
    expect(await ok(['exec', `${P}cp`, 'cat', '/data/in.txt'])).toBe('alpha\n');

    await ok(['exec', `${P}cp`, 'sh', '-c', 'echo secret-ish > /data/suid; chmod 4755 /data/suid']);
    const out = join(scratch, 'out');
    mkdirSync(out);
    await ok(['cp', `${P}cp:/data`, out]);
    expect(readFileSync(join(out, 'data', 'src', 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(readlinkSync(join(out, 'data', 'src', 'link'))).toBe('a.txt');
    expect(statSync(join(out, 'data', 'src', 'sub', 'b.sh')).mode & 0o7777).toBe(0o750);
    // no set-uid program comes out of a container
    expect(statSync(join(out, 'data', 'suid')).mode & 0o7777).toBe(0o755);
    await ok(['cp', `${P}cp:/data/renamed.txt`, join(out, 'single.txt')]);
    expect(readFileSync(join(out, 'single.txt'), 'utf8')).toBe('alpha\n');

    // "-": a tar stream on stdout, named from the source's last component
    const listing = execFileSync('sh', ['-c', `"${TSBOX_BIN}" cp ${P}cp:/data/src - | tar -tvf -`], { env: { ...process.env, TSBOX_ROOT: testRoot() }, encoding: 'utf8' });
    expect(listing.trim().split('\n').map((l) => l.replace(/^.* (src\/\S*)( -> .*)?$/, '$1$2')).sort()).toEqual(['src/', 'src/a.txt', 'src/link -> a.txt', 'src/sub/', 'src/sub/b.sh']);
    const content = execFileSync('sh', ['-c', `"${TSBOX_BIN}" cp ${P}cp:/data/src/. - | tar -xOf - sub/b.sh`], { env: { ...process.env, TSBOX_ROOT: testRoot() }, encoding: 'utf8' });
    expect(content).toBe('#!/bin/sh\necho b\n');

    await fails(['cp', src, `${P}cp:/data/in.txt`], /cannot copy a directory to a file/);
    await fails(['cp', join(src, 'a.txt'), `${P}cp:/nowhere/x`], /no such file or directory/);
    await fails(['cp', join(src, 'a.txt'), `${P}cp:/data/newdir/`], /destination directory \/data\/newdir does not exist/);
    await fails(['cp', `${P}cp:/nope`, out], /no such file or directory/);
    await fails(['cp', join(src, 'a.txt'), join(out, 'x')], /one side must be a container/);
    await ok(['rm', '-f', `${P}cp`]);
    await fails(['cp', join(src, 'a.txt'), `${P}cp:/data`], /no such container/);
  });

  it('- NAME:DIR extracts a tar stream from stdin inside the container, never outside it', async () => {
    const host = join(scratch, 'host-etc-tar');
    mkdirSync(host);
    // The container has a directory at the host dir's path too: where the member must land.
    await ok(['run', '-d', '--name', `${P}tin`, rootfsTar(), 'sh', '-c', `mkdir -p /dest ${host}; ${idle}`]);
    await waitFor(async () => (await tsbox(['exec', `${P}tin`, 'test', '-d', '/dest'])).code === 0);
    const archive = async (entries: { name: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; data?: string; mode?: number }[]) => {
      const pack = tar.pack();
      const chunks: Buffer[] = [];
      pack.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise((r) => pack.on('end', r));
      for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.mode ?? 0o644 }, e.data ?? '');
      pack.finalize();
      await ended;
      return Buffer.concat(chunks);
    };
    const good = await archive([{ name: 't/', type: 'directory', mode: 0o750 }, { name: 't/a', data: 'one\n', mode: 0o600 }, { name: 't/deep/b', data: 'two\n' }, { name: 't/l', type: 'symlink', linkname: 'a' }]);
    expect(await tsbox(['cp', '-', `${P}tin:/dest`], { input: good })).toMatchObject({ code: 0, stderr: '' });
    expect(await ok(['exec', `${P}tin`, 'sh', '-c', 'cat /dest/t/a /dest/t/deep/b; readlink /dest/t/l; stat -c %a /dest/t /dest/t/a'])).toBe('one\ntwo\na\n750\n600\n');

    // The archive's own symlink to a host path, then a member through it: lands in the container's tree.
    const evil = await archive([{ name: 'l', type: 'symlink', linkname: host }, { name: 'l/planted', data: 'PLANTED\n' }]);
    expect((await tsbox(['cp', '-', `${P}tin:/dest`], { input: evil })).code).toBe(0);
    expect(readdirSync(host)).toEqual([]);
    expect(await ok(['exec', `${P}tin`, 'cat', `${host}/planted`])).toBe('PLANTED\n');
    await fails(['cp', '-', `${P}tin:/dest`], /tar member '\.\.\/x': name contains a "\.\." component/, undefined, await archive([{ name: '../x', data: 'x' }]));
    expect(existsSync(join(scratch, 'x'))).toBe(false);
    await fails(['cp', '-', `${P}tin:/nope`], /does not exist: a tar stream is extracted into an existing directory/, undefined, good);
    await ok(['rm', '-f', `${P}tin`]);
  });

  it('refuses a stopped container (its files are gone)', async () => {
    await ok(['run', '-d', '--name', `${P}cpx`, rootfsTar(), 'true']);
    await ok(['wait', `${P}cpx`]);
    await fails(['cp', `${P}cpx:/etc/hostname`, scratch], /is not running/);
    await ok(['rm', `${P}cpx`]);
  });

  // Both resolvers: openat2 RESOLVE_IN_ROOT, and the userspace walk of kernels before 5.6.
  // --no-openat2 (hidden, for testing): openat2 fails with ENOSYS, as before Linux 5.6.
  for (const resolver of [{ name: 'openat2', flags: [] }, { name: 'userspace fallback', flags: ['--no-openat2'] }]) {
    it(`symlinks in the container cannot make cp read or write host files (${resolver.name})`, async () => {
      const f = resolver.flags;
      const tag = resolver.name === 'openat2' ? 'k' : 'u';
      // A scratch dir on the host plays the part of /etc: a "secret" to read, a place to plant files.
      const host = join(scratch, `host-etc-${tag}`);
      mkdirSync(host);
      writeFileSync(join(host, 'shadow'), 'HOST SECRET\n');
      const payload = join(scratch, `payload-${tag}`);
      writeFileSync(payload, 'PLANTED\n');
      const before = readdirSync(host).sort();
      await ok(['run', '-d', '--name', `${P}evil${tag}`, rootfsTar(), 'sh', '-c', [
        `ln -s ${host} /abs`, // absolute: the host's scratch dir, seen from the host
        `ln -s ../../../../../../../../..${host} /rel`, // relative, climbing past the root
        `ln -s ${host}/shadow /etc/shadow-link`, // a file symlink
        'mkdir -p /out',
        `ln -s ${host} /out/dir-link`,
        idle,
      ].join('; ')]);
      await waitFor(async () => (await tsbox(['exec', `${P}evil${tag}`, 'test', '-L', '/out/dir-link'])).code === 0);

      // Reading through them finds nothing (the container has no such paths)...
      await fails(['cp', ...f, `${P}evil${tag}:/abs/shadow`, join(scratch, `stolen1${tag}`)], /no such file or directory/);
      await fails(['cp', ...f, `${P}evil${tag}:/rel/shadow`, join(scratch, `stolen2${tag}`)], /no such file or directory/);
      await fails(['cp', ...f, '-L', `${P}evil${tag}:/etc/shadow-link`, join(scratch, `stolen3${tag}`)], /no such file or directory/);
      // ... a symlink copied without -L stays a symlink, never its host target's content
      await ok(['cp', ...f, `${P}evil${tag}:/etc/shadow-link`, join(scratch, `stolen4${tag}`)]);
      expect(lstatSync(join(scratch, `stolen4${tag}`)).isSymbolicLink()).toBe(true);
      // ... and a directory holding a link to the host copies the link, not the host's files
      await ok(['cp', ...f, `${P}evil${tag}:/out`, join(scratch, `stolen5${tag}`)]);
      expect(lstatSync(join(scratch, `stolen5${tag}`, 'dir-link')).isSymbolicLink()).toBe(true);
      for (const f of ['stolen1', 'stolen2', 'stolen3']) expect(existsSync(join(scratch, `${f}${tag}`))).toBe(false);

      // Writing through them lands inside the container, or fails: never in the host dir.
      await fails(['cp', ...f, payload, `${P}evil${tag}:/abs/planted`], /no such file or directory/);
      await fails(['cp', ...f, payload, `${P}evil${tag}:/rel/planted`], /no such file or directory/);
      await ok(['cp', ...f, payload, `${P}evil${tag}:/etc/shadow-link`]); // replaces the link itself
      await ok(['cp', ...f, payload, `${P}evil${tag}:/out/dir-link`]); // a link to a missing dir: replaced by the file
      expect(readFileSync(join(host, 'shadow'), 'utf8')).toBe('HOST SECRET\n');
      expect(readdirSync(host).sort()).toEqual(before);
      expect(await ok(['exec', `${P}evil${tag}`, 'sh', '-c', 'cat /etc/shadow-link /out/dir-link'])).toBe('PLANTED\nPLANTED\n');
      await ok(['rm', '-f', `${P}evil${tag}`]);
    });
  }
});
