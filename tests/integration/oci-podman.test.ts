/**
 * podman 4.3 (with conmon) running its containers through tsbox-runtime: run --rm and exit
 * codes, stdin, -d then exec, stop, kill, rm -f, a terminal. After every flow: no state entry
 * in /run/tsbox-runtime, no cgroup of the container, no process of it.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupsNamed, isolatedPodman, RUNTIME_BIN, type Podman } from '../helpers/oci-engines.js';
import { RUNTIME_STATE_ROOT } from '../helpers/host-state.js';
import { expectEngineTty, startTmux } from '../helpers/tmux.js';

let dir: string;
let podman: Podman;
/**
 * podman sends a pids limit of 2048 by default (this host's cgroup v2 has no pids
 * controller), and rlimits above this machine's hard limits (NOFILE 1048576: raising it
 * needs CAP_SYS_RESOURCE, which this VM lacks; runc fails the same way).
 */
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const NO_PIDS = ['--pids-limit', '-1', ...ULIMITS];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbox-oci-podman-'));
  podman = isolatedPodman(dir);
}, 120_000);

afterAll(() => {
  podman?.run(['rm', '-af']);
  rmSync(dir, { recursive: true, force: true });
});

function runtimeEntries(): string[] {
  try {
    return readdirSync(RUNTIME_STATE_ROOT);
  } catch {
    return [];
  }
}

function expectNothingLeft(id: string): void {
  expect(runtimeEntries().filter((e) => e.startsWith(id.slice(0, 12)))).toEqual([]);
  expect(cgroupsNamed([id])).toEqual([]);
}

describe('podman --runtime tsbox-runtime', () => {
  it('run --rm passes the exit status on and leaves nothing', () => {
    const r = podman.run(['run', '--rm', '--name', 'oci-exit', ...NO_PIDS, podman.image, 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.stderr).toContain('err');
    expect(r.stdout).toBe('out\n');
    expect(r.code).toBe(7);
    expect(runtimeEntries()).toEqual([]);
  });

  it('runs the container in its own namespaces, with config.json\'s hostname and /dev', () => {
    const r = podman.run(['run', '--rm', '--hostname', 'ocibox', ...NO_PIDS, podman.image, 'sh', '-c', 'hostname; ulimit -n; echo $$; ls /dev']);
    expect(r.code).toBe(0);
    const [hostname, nofile, pid, ...dev] = r.stdout.trim().split('\n');
    expect(hostname).toBe('ocibox');
    expect(nofile).toBe('1024'); // process.rlimits applied
    expect(pid).toBe('1');
    expect(dev).toEqual(expect.arrayContaining(['null', 'zero', 'urandom', 'pts', 'shm', 'ptmx']));
  });

  it('pipes stdin through (-i)', () => {
    const r = podman.run(['run', '--rm', '-i', ...NO_PIDS, podman.image, 'wc', '-c'], { input: 'hello tsbox\n' });
    expect(r.stdout.trim()).toBe('12');
    expect(r.code).toBe(0);
  });

  it('a command that does not exist is 127', () => {
    const r = podman.run(['run', '--rm', ...NO_PIDS, podman.image, '/nope']);
    expect(r.code).toBe(127);
    expect(runtimeEntries()).toEqual([]);
  });

  it('refuses podman\'s default pids limit clearly (no pids controller in cgroup v2 here), leaving nothing', () => {
    const r = podman.run(['run', '--rm', ...ULIMITS, podman.image, 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pids controller is not available in cgroup v2/);
    expect(runtimeEntries()).toEqual([]);
  });

  it('--cgroups=disabled: no group, so no device policy: MKNOD is refused; without it the container runs', () => {
    const refused = podman.run(['run', '--rm', '--cgroups=disabled', ...ULIMITS, podman.image, 'true']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/apply device policy: cannot give the container MKNOD without a device policy/);
    const r = podman.run(['run', '--rm', '--cgroups=disabled', '--cap-drop', 'MKNOD', ...ULIMITS, podman.image, 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(3);
    expect(runtimeEntries()).toEqual([]);
  });

  it('-d, then exec (exit status, stdin), stop and rm', () => {
    const d = podman.run(['run', '-d', '--name', 'oci-d', ...NO_PIDS, podman.image, 'sleep', '300']);
    expect(d.code).toBe(0);
    const id = d.stdout.trim();
    try {
      const state = podman.run(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'oci-d']);
      expect(state.stdout).toMatch(/^running [1-9]/);
      const e = podman.run(['exec', 'oci-d', 'sh', '-c', 'echo in; exit 4']);
      expect(e.stdout).toBe('in\n');
      expect(e.code).toBe(4);
      const i = podman.run(['exec', '-i', 'oci-d', 'wc', '-c'], { input: 'abc' });
      expect(i.stdout.trim()).toBe('3');
      // The exec'd process is in the container's PID namespace, beside its PID 1.
      const ps = podman.run(['exec', 'oci-d', 'sh', '-c', 'ls /proc | grep -c "^[0-9]"']);
      expect(Number(ps.stdout.trim())).toBeGreaterThanOrEqual(2);
      expect(podman.run(['stop', '-t', '1', 'oci-d']).code).toBe(0);
      expect(podman.run(['inspect', '--format', '{{.State.Status}}', 'oci-d']).stdout.trim()).toBe('exited');
    } finally {
      expect(podman.run(['rm', '-f', 'oci-d']).code).toBe(0);
    }
    expectNothingLeft(id);
  });

  it('kill and rm -f of a running container', () => {
    const d = podman.run(['run', '-d', '--name', 'oci-k', ...NO_PIDS, podman.image, 'sh', '-c', 'trap "exit 9" USR1; while true; do sleep 1; done']);
    const id = d.stdout.trim();
    expect(podman.run(['kill', '-s', 'USR1', 'oci-k']).code).toBe(0);
    expect(podman.run(['wait', 'oci-k']).stdout.trim()).toBe('9');
    expect(podman.run(['start', 'oci-k']).code).toBe(0);
    expect(podman.run(['rm', '-f', 'oci-k']).code).toBe(0);
    expectNothingLeft(id);
  });

  it('exec -t through a terminal: the exec gets a pty of the container\'s devpts (console socket)', async () => {
    const d = podman.run(['run', '-d', '--name', 'oci-et', ...NO_PIDS, podman.image, 'sleep', '300']);
    expect(d.code).toBe(0);
    try {
      const cmd = ['podman', ...podman.base, '--runtime', RUNTIME_BIN, 'exec', '-t', 'oci-et', 'sh', '-c', "'tty; echo exec-$((6*7)); exit 5'"];
      const t = await startTmux(`CONTAINERS_CONF=${podman.env.CONTAINERS_CONF} ${cmd.join(' ')}; echo status=$?; sleep 30`);
      try {
        const screen = await t.screenShows(/status=\d+/, 30_000);
        expect(screen).toMatch(/\/dev\/pts\/\d+/);
        expect(screen).toContain('exec-42');
        expect(screen).toContain('status=5');
      } finally {
        await t.close();
      }
    } finally {
      expect(podman.run(['rm', '-f', 'oci-et']).code).toBe(0);
    }
    expectNothingLeft(d.stdout.trim());
  });

  it('run -t through a terminal: the container has a pty (console socket)', async () => {
    const cmd = ['podman', ...podman.base, '--runtime', RUNTIME_BIN, 'run', '--rm', '-t', ...NO_PIDS, podman.image, 'sh', '-c', 'tty; echo done-$((6*7))'];
    await expectEngineTty(`CONTAINERS_CONF=${podman.env.CONTAINERS_CONF} ${cmd.join(' ')}`);
    expect(runtimeEntries()).toEqual([]);
  });
});
