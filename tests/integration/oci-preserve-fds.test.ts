/**
 * tsbox-runtime --preserve-fds N (runc's meaning, what podman's --preserve-fds and socket
 * activation rely on): the caller's fds 3..3+N-1 reach the container's process as its fds
 * 3..3+N-1, through create's hold at exec.fifo, through run, and through exec. The process
 * must have exactly stdio and those: no fd of the runtime's, the init's or the exec-init's
 * (checked from the host, on /proc/PID/fd of the running command), and without the flag none
 * of the caller's. A bad N is refused in one line before anything exists.
 */
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRuntime, removeRuntimeScratch, runtimeScratch, cgroupsNamed, isolatedPodman, RUNTIME_BIN } from '../helpers/oci-engines.js';

let dir: string;
let rootfs: string;
let stateRoot: string;
let ids = 0;

beforeAll(() => {
  ({ dir, stateRoot, rootfs } = runtimeScratch('tsbox-oci-fds-'));
});

afterAll(() => removeRuntimeScratch(dir, stateRoot));

/**
 * tsbox-runtime with `extra` as its fds 3, 4, ...; stdout and stderr to files of this call's
 * own (a created container's init keeps what it inherited).
 */
const runtime = (args: string[], extra: number[] = []) => callRuntime(dir, ['--root', stateRoot], args, extra);

function bundle(args: string[]): string {
  const b = join(dir, `bundle-${++ids}`);
  mkdirSync(b);
  expect(runtime(['spec', '--bundle', b]).code).toBe(0);
  const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  config.root = { path: rootfs, readonly: false };
  config.process.terminal = false;
  config.process.args = args;
  writeFileSync(join(b, 'config.json'), JSON.stringify(config));
  return b;
}

/** A file the test opens for the container to write to: its fd, and how to read what came. */
function sink(name: string) {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  return { fd, ino: fstatSync(fd).ino, text: () => readFileSync(path, 'utf8'), close: () => closeSync(fd) };
}

const until = (cond: () => boolean) => {
  for (let i = 0; i < 3000 && !cond(); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  return cond();
};

const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

/** The fds of a running process, as numbers, from the host. */
const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);

/** The children of `pid` (the exec-init's command). */
const childrenOf = (pid: number) => readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));

function removeContainer(id: string): void {
  expect(runtime(['delete', '--force', id]).code).toBe(0);
  expect(readdirSync(stateRoot)).not.toContain(id);
  expect(cgroupsNamed([id])).toEqual([]);
}

// The command writes to its fd 3 (and 4), then becomes `sleep`, whose fds the host then reads.
const WRITER = (words: string[]) => ['sh', '-c', `${words.map((w, i) => `echo ${w} >&${3 + i}`).join('; ')}; exec sleep 300`];

describe('--preserve-fds', () => {
  it('create + start: the caller\'s fds 3 and 4 are the process\'s 3 and 4, and it has no other', () => {
    const id = `fds-create-${process.pid}`;
    const [a, b] = [sink('create-3'), sink('create-4')];
    const pidFile = join(dir, `${id}.pid`);
    try {
      const created = runtime(['create', '--bundle', bundle(WRITER(['three', 'four'])), '--pid-file', pidFile, '--preserve-fds', '2', id], [a.fd, b.fd]);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
    } finally {
      a.close();
      b.close();
    }
    // Held at exec.fifo: nothing written yet.
    expect(a.text()).toBe('');
    expect(runtime(['start', id]).code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(until(() => comm(pid) === 'sleep')).toBe(true);
    expect(a.text()).toBe('three\n');
    expect(b.text()).toBe('four\n');
    expect(fdsOf(pid)).toEqual([0, 1, 2, 3, 4]);
    expect(statSync(`/proc/${pid}/fd/3`).ino).toBe(a.ino);
    expect(statSync(`/proc/${pid}/fd/4`).ino).toBe(b.ino);
    removeContainer(id);
  });

  it('without it, an fd the caller left open does not reach the container', () => {
    const id = `fds-none-${process.pid}`;
    const a = sink('none-3');
    const pidFile = join(dir, `${id}.pid`);
    try {
      expect(runtime(['create', '--bundle', bundle(['sleep', '300']), '--pid-file', pidFile, id], [a.fd]).code).toBe(0);
    } finally {
      a.close();
    }
    expect(runtime(['start', id]).code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(until(() => comm(pid) === 'sleep')).toBe(true);
    expect(fdsOf(pid)).toEqual([0, 1, 2]);
    removeContainer(id);
  });

  it('run: the fd is passed on, and run still waits for and returns the status', async () => {
    const id = `fds-run-${process.pid}`;
    const a = sink('run-3');
    const pidFile = join(dir, `${id}.pid`);
    const child = spawn(RUNTIME_BIN, ['--root', stateRoot, 'run', '--bundle', bundle(WRITER(['ran'])), '--pid-file', pidFile, '--preserve-fds', '1', id], { stdio: ['ignore', 'ignore', 'pipe', a.fd] });
    a.close();
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(until(() => existsSync(pidFile) && comm(Number(readFileSync(pidFile, 'utf8'))) === 'sleep')).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(a.text()).toBe('ran\n');
    expect(fdsOf(pid)).toEqual([0, 1, 2, 3]);
    expect(statSync(`/proc/${pid}/fd/3`).ino).toBe(a.ino);
    expect(runtime(['kill', id, 'KILL']).code).toBe(0);
    expect(await exited).toBe(137);
    expect(stderr).toBe('');
    expect(readdirSync(stateRoot)).not.toContain(id);
    expect(cgroupsNamed([id])).toEqual([]);
  });

  it('exec --detach and foreground exec: the caller\'s fds are the command\'s 3.., and only those', () => {
    const id = `fds-exec-${process.pid}`;
    expect(runtime(['create', '--bundle', bundle(['sleep', '300']), id]).code).toBe(0);
    expect(runtime(['start', id]).code).toBe(0);

    const [a, b] = [sink('exec-3'), sink('exec-4')];
    const execPid = join(dir, `${id}.exec.pid`);
    const processFile = join(dir, 'process.json');
    writeFileSync(processFile, JSON.stringify({ args: WRITER(['e3', 'e4']), env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }));
    try {
      const r = runtime(['exec', '--process', processFile, '--detach', '--pid-file', execPid, '--preserve-fds', '2', id], [a.fd, b.fd]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      a.close();
      b.close();
    }
    // The pid file names the exec-init; the command is its child.
    const execInit = Number(readFileSync(execPid, 'utf8'));
    expect(until(() => childrenOf(execInit).some((c) => comm(c) === 'sleep'))).toBe(true);
    const command = childrenOf(execInit).find((c) => comm(c) === 'sleep')!;
    expect(a.text()).toBe('e3\n');
    expect(b.text()).toBe('e4\n');
    expect(fdsOf(command)).toEqual([0, 1, 2, 3, 4]);
    expect(statSync(`/proc/${command}/fd/3`).ino).toBe(a.ino);
    expect(statSync(`/proc/${command}/fd/4`).ino).toBe(b.ino);

    const c = sink('exec-fg-3');
    try {
      const fg = runtime(['exec', '--preserve-fds', '1', id, '--', 'sh', '-c', 'echo fg >&3; ls /proc/self/fd >&3; exit 3'], [c.fd]);
      expect(fg.stderr).toBe('');
      expect(fg.code).toBe(3);
    } finally {
      c.close();
    }
    // ls's own directory fd is the one more it lists.
    const [word, ...listed] = c.text().trim().split('\n');
    expect(word).toBe('fg');
    expect(listed.map(Number).filter((n) => n <= 3)).toEqual([0, 1, 2, 3]);
    expect(listed.length).toBe(5);
    removeContainer(id);
  });

  it('refuses a bad N in one line, before anything is created', () => {
    const id = `fds-bad-${process.pid}`;
    const b = bundle(['true']);
    const a = sink('bad-3');
    try {
      // Only fd 3 passed: fd 4 is the runtime's own.
      const short = runtime(['create', '--bundle', b, '--preserve-fds', '2', id], [a.fd]);
      expect(short.code).toBe(125);
      expect(short.stderr).toBe('tsbox-runtime: create: --preserve-fds 2 passes fds 3..4, but fd 4 was not passed by the caller (it is the runtime\'s own event loop). Open the fds to pass as 3..4 when calling tsbox-runtime, or pass a smaller N.\n');
    } finally {
      a.close();
    }
    const none = runtime(['run', '--bundle', b, '--preserve-fds', '1', id]);
    expect(none.code).toBe(125);
    expect(none.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(none.stderr).toContain('fd 3 was not passed by the caller');
    for (const n of ['-1', 'x', '1.5']) {
      const r = runtime(['create', '--bundle', b, '--preserve-fds', n, id]);
      expect(r.code, n).toBe(125);
      expect(r.stderr, n).toBe(`tsbox-runtime: --preserve-fds takes a number of fds (0 or more), not '${n}'. runc's meaning: fds 3..3+N-1 are passed on.\n`);
    }
    expect(readdirSync(stateRoot)).not.toContain(id);
    expect(cgroupsNamed([id])).toEqual([]);
  });

  it('exec refuses a bad N in one line, and the container runs on', () => {
    const id = `fds-exec-bad-${process.pid}`;
    expect(runtime(['create', '--bundle', bundle(['sleep', '300']), id]).code).toBe(0);
    expect(runtime(['start', id]).code).toBe(0);
    const r = runtime(['exec', '--preserve-fds', '1', id, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('tsbox-runtime: exec: --preserve-fds 1 passes fds 3..3, but fd 3 was not passed by the caller (it is the runtime\'s own event loop). Open the fds to pass as 3..3 when calling tsbox-runtime, or pass a smaller N.\n');
    expect(JSON.parse(runtime(['state', id]).stdout).status).toBe('running');
    removeContainer(id);
  });
});

describe('podman --preserve-fds through tsbox-runtime', () => {
  const ULIMITS = ['--pids-limit', '-1', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
  /** podman with the isolated store and tsbox-runtime, `extra` as its fds 3, ... */
  function podmanWith(p: ReturnType<typeof isolatedPodman>, args: string[], extra: number[]) {
    const r = spawnSync('podman', [...p.base, '--runtime', RUNTIME_BIN, ...args], { env: p.env, stdio: ['ignore', 'pipe', 'pipe', ...extra] as StdioOptions, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('run and exec: the fd reaches the container as fd 3 (conmon passes it to create and exec)', () => {
    const p = isolatedPodman(join(dir, 'podman'));
    const name = `fds-podman-${process.pid}`;
    try {
      const a = sink('podman-run-3');
      try {
        const r = podmanWith(p, ['run', '--rm', ...ULIMITS, '--preserve-fds', '1', p.image, 'sh', '-c', 'echo podman-run >&3'], [a.fd]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      } finally {
        a.close();
      }
      expect(a.text()).toBe('podman-run\n');

      expect(podmanWith(p, ['run', '-d', '--name', name, ...ULIMITS, p.image, 'sleep', '300'], []).code).toBe(0);
      const b = sink('podman-exec-3');
      try {
        const e = podmanWith(p, ['exec', '--preserve-fds', '1', name, 'sh', '-c', 'echo podman-exec >&3; ls /proc/self/fd >&3'], [b.fd]);
        expect(e.stderr).toBe('');
        expect(e.code).toBe(0);
      } finally {
        b.close();
      }
      const [word, ...listed] = b.text().trim().split('\n');
      expect(word).toBe('podman-exec');
      // 0-2, the passed fd, and ls's own directory fd.
      expect(listed.map(Number).filter((n) => n <= 3)).toEqual([0, 1, 2, 3]);
      expect(listed).toHaveLength(5);
    } finally {
      p.run(['rm', '-f', '-t', '0', name]);
    }
  }, 240_000);
});
