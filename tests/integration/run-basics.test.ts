/**
 * tsbox run end to end: real containers from a busybox rootfs tarball, through the CLI.
 */
import { readdirSync, readlinkSync, mkdtempSync, writeFileSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rootfsTar, sh, testRoot, tsbox } from '../helpers/tsbox.js';
import { inject } from 'vitest';

function containersLeft(): string[] {
  const dir = join(testRoot(), 'containers');
  return existsSync(dir) ? readdirSync(dir) : [];
}

afterEach(() => {
  // Every run is ephemeral: nothing of it may outlive tsbox.
  expect(containersLeft()).toEqual([]);
});

describe('exit status', () => {
  it('is the command\'s own', async () => {
    expect((await sh('exit 0')).code).toBe(0);
    expect((await sh('exit 42')).code).toBe(42);
  });

  it('is 127 for a missing command, 126 for a non-executable one, with one line', async () => {
    const missing = await tsbox(['run', rootfsTar(), 'no-such-command']);
    expect(missing.code).toBe(127);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^tsbox: find command: no-such-command: command not found/);
    const notExec = await tsbox(['run', rootfsTar(), '/etc/passwd']);
    expect(notExec.code).toBe(126);
    expect(notExec.stderr).toMatch(/not executable/);
    const dir = await tsbox(['run', rootfsTar(), '/etc']);
    expect(dir.code).toBe(126);
  });

  it('is 127 when a script\'s interpreter is missing', async () => {
    const r = await sh('printf "#!/no/such/interp\\necho\\n" > /s && chmod +x /s && exec /s');
    expect(r.code).toBe(127);
  });

  it('is 128+N when the command dies of signal N', async () => {
    let containerPid = 0;
    const r = await tsbox(['run', rootfsTar(), 'sleep', '30'], {
      onSpawn: (child) => {
        // Find the container's PID 1 (tsbox's only child) and kill it from the host.
        const timer = setInterval(() => {
          const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
          if (kids) {
            containerPid = Number(kids.split(' ')[0]);
            // Wait until it is sleep, not the init still setting up.
            if (readlinkSync(`/proc/${containerPid}/exe`).endsWith('busybox')) {
              clearInterval(timer);
              process.kill(containerPid, 'SIGKILL');
            }
          }
        }, 20);
      },
    });
    expect(containerPid).toBeGreaterThan(0);
    expect(r.code).toBe(137);
  });
});

describe('stdio', () => {
  it('passes stdin through by default', async () => {
    const r = await tsbox(['run', rootfsTar(), 'cat'], { input: 'hi\n' });
    expect(r.stdout).toBe('hi\n');
    const i = await tsbox(['run', '-i', '--rm', rootfsTar(), 'wc', '-c'], { input: 'x'.repeat(100_000) });
    expect(i.stdout.trim()).toBe('100000');
  });

  it('keeps stdout and stderr apart', async () => {
    const r = await sh('echo out; echo err >&2');
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  it('gives the command only fds 0, 1 and 2', async () => {
    const r = await sh('ls /proc/self/fd | sort -n | tr "\\n" " "');
    // ls itself holds one more: the directory it is listing.
    expect(r.stdout.trim()).toBe('0 1 2 3');
  });
});

describe('namespaces', () => {
  it('runs the command as PID 1 and shows only the container\'s processes', async () => {
    const r = await sh('echo $$; ls /proc | grep -c "^[0-9]"');
    const [pid, count] = r.stdout.trim().split('\n');
    expect(pid).toBe('1');
    expect(Number(count)).toBeLessThanOrEqual(3); // sh, ls, grep
  });

  it('gives every namespace but the user namespace a new instance', async () => {
    const kinds = ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup'];
    const r = await sh(kinds.map((k) => `readlink /proc/self/ns/${k}`).join('; '));
    const inside = r.stdout.trim().split('\n');
    kinds.forEach((k, i) => expect(inside[i], k).not.toBe(readlinkSync(`/proc/self/ns/${k}`)));
  });

  it('with --network none, has only loopback, and it is up', async () => {
    const r = await sh('ip -o link show; (echo over-loopback | nc -l -p 7777 &) ; sleep 0.2; nc 127.0.0.1 7777 </dev/null', ['--network', 'none']);
    const links = r.stdout.trim().split('\n').filter((l) => /^\d+:/.test(l));
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    expect(r.stdout).toMatch(/over-loopback/);
  });

  it('uses the short container id as hostname unless --hostname is given', async () => {
    const r = await sh('hostname; cat /etc/hostname; grep -c "$(hostname)" /etc/hosts; echo $HOSTNAME');
    const [name, file, inHosts, env] = r.stdout.trim().split('\n');
    expect(name).toMatch(/^[0-9a-f]{12}$/);
    expect(file).toBe(name);
    expect(Number(inHosts)).toBeGreaterThan(0);
    expect(env).toBe(name);
    const named = await sh('hostname', ['--hostname', 'build-7']);
    expect(named.stdout).toBe('build-7\n');
  });

  it('leaves the host\'s hostname alone', async () => {
    const before = readFileSync('/proc/sys/kernel/hostname', 'utf8');
    await sh('hostname changed-inside', ['--cap-add', 'SYS_ADMIN']);
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(before);
  });
});

describe('filesystem', () => {
  it('pivots into the image: no host path is reachable', async () => {
    const marker = join(inject('workDir'), 'host-only-marker');
    writeFileSync(marker, 'x');
    const r = await sh(`ls ${marker} 2>&1; cat /proc/self/mountinfo`);
    expect(r.stdout).toMatch(/No such file/);
    // The only root is the overlay; nothing of the host's tree is mounted.
    expect(r.stdout).toMatch(/ \/ \/ .* - overlay overlay /);
    // The upper layer is thrown away after the run: no sync of the host's disk at teardown.
    expect(r.stdout).toMatch(/ \/ \/ .* - overlay overlay .*\bvolatile\b/);
    const mountPoints = r.stdout.split('\n').filter((l) => / - /.test(l)).map((l) => l.split(' ')[4]);
    expect(mountPoints.length).toBeGreaterThan(5);
    for (const m of mountPoints) expect(m).not.toMatch(/^\/(var|work|home|run)\b/);
  });

  it('mounts /proc, /sys (read-only), /dev with the standard nodes, devpts, shm and mqueue', async () => {
    const r = await sh('cat /proc/mounts; ls /dev | tr "\\n" " "; echo; stat -c "%a %t:%T" /dev/null /dev/zero /dev/urandom /dev/tty; touch /sys/x 2>&1; echo x > /dev/shm/ok && echo shm-ok');
    for (const m of [/^proc \/proc proc rw,nosuid,nodev,noexec/m, /^sysfs \/sys sysfs ro,nosuid,nodev,noexec/m, /^tmpfs \/dev tmpfs rw,nosuid/m, /^devpts \/dev\/pts devpts rw,nosuid,noexec.*mode=620,ptmxmode=666/m, /^shm \/dev\/shm tmpfs rw,nosuid,nodev,noexec/m, /^mqueue \/dev\/mqueue mqueue/m]) {
      expect(r.stdout).toMatch(m);
    }
    expect(r.stdout).toMatch(/fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero/);
    expect(r.stdout).toMatch(/666 1:3\n666 1:5\n666 1:9\n666 5:0/);
    expect(r.stdout).toMatch(/Read-only file system/);
    expect(r.stdout).toMatch(/shm-ok/);
  });

  it('provides /etc/hosts and /etc/resolv.conf without changing the image', async () => {
    const r = await sh('grep localhost /etc/hosts; test -f /etc/resolv.conf && echo resolv-ok');
    expect(r.stdout).toMatch(/127\.0\.0\.1\tlocalhost/);
    expect(r.stdout).toMatch(/resolv-ok/);
  });

  it('keeps each container\'s writes to itself and the cache unchanged', async () => {
    const first = await sh('echo one > /etc/written && cat /etc/written');
    expect(first.stdout).toBe('one\n');
    const second = await sh('cat /etc/written 2>&1 || echo absent');
    expect(second.stdout).toMatch(/absent/);
    // Two at once do not see each other's files.
    const [a, b] = await Promise.all([
      sh('echo a > /shared; sleep 0.5; cat /shared'),
      sh('echo b > /shared; sleep 0.5; cat /shared'),
    ]);
    expect(a.stdout).toBe('a\n');
    expect(b.stdout).toBe('b\n');
  });

  it('makes the root read-only with --read-only', async () => {
    const r = await sh('touch /x 2>&1; echo ok > /dev/shm/y && cat /dev/shm/y', ['--read-only']);
    expect(r.stdout).toMatch(/Read-only file system/);
    expect(r.stdout).toMatch(/ok/);
  });

  it('bind-mounts volumes, read-write and read-only', async () => {
    const dir = mkdtempSync(join(inject('workDir'), 'vol-'));
    writeFileSync(join(dir, 'in'), 'from host\n');
    const r = await sh('cat /data/in; echo back > /data/out; touch /ro/x 2>&1', ['-v', `${dir}:/data`, '-v', `${dir}:/ro:ro`]);
    expect(r.stdout).toMatch(/from host/);
    expect(r.stdout).toMatch(/Read-only file system/);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('back\n');
    rmSync(dir, { recursive: true });
  });

  it('mounts --tmpfs with docker\'s defaults', async () => {
    const r = await sh('grep " /scratch " /proc/mounts', ['--tmpfs', '/scratch']);
    expect(r.stdout).toMatch(/^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec/);
  });

  it('runs from a directory rootfs and from a gzip archive on stdin', async () => {
    const tree = join(inject('workDir'), 'tree');
    if (!existsSync(tree)) {
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkdir', ['-p', tree]);
      execFileSync('tar', ['-xf', rootfsTar(), '-C', tree]);
    }
    const fromDir = await tsbox(['run', tree, '/bin/echo', 'dir-ok']);
    expect(fromDir.stdout).toBe('dir-ok\n');
    const { gzipSync } = await import('node:zlib');
    const gz = gzipSync(readFileSync(rootfsTar()));
    const fromStdin = await tsbox(['run', '-', '/bin/echo', 'stdin-ok'], { input: gz });
    expect(fromStdin.stdout).toBe('stdin-ok\n');
  });
});

describe('process', () => {
  it('sets the default environment and -e/--env-file on top', async () => {
    const envFile = join(inject('workDir'), 'vars.env');
    writeFileSync(envFile, '# a comment\nFROM_FILE=1\nOVERRIDE=file\n\n');
    const r = await tsbox(['run', '-e', 'A=b c', '-e', 'OVERRIDE=flag', '--env-file', envFile, rootfsTar(), 'env'], { env: { TERM: 'dumb' } });
    const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toMatchObject({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TERM: 'xterm', A: 'b c', FROM_FILE: '1', OVERRIDE: 'flag' });
    expect(env.HOSTNAME).toMatch(/^[0-9a-f]{12}$/);
  });

  it('creates a missing -w directory and starts there', async () => {
    const r = await sh('pwd', ['-w', '/work/deep/dir']);
    expect(r.stdout).toBe('/work/deep/dir\n');
  });

  it('runs as -u UID[:GID] or a name from the image', async () => {
    expect((await sh('id -u; id -g', ['-u', '1000'])).stdout).toBe('1000\n1000\n');
    expect((await sh('id -u; id -g', ['-u', '4242:4343'])).stdout).toBe('4242\n4343\n');
    const named = await sh('id -un; echo $HOME', ['-u', 'nobody']);
    expect(named.stdout).toBe('nobody\n/nonexistent\n'.replace('/nonexistent', named.stdout.split('\n')[1]!));
    expect(named.stdout.split('\n')[0]).toBe('nobody');
  });
});

describe('signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const) {
    it(`forwards ${signal} to the container`, async () => {
      const name = signal.slice(3);
      const r = await tsbox(['run', rootfsTar(), '/bin/sh', '-c', `trap "echo got-${name}; exit 3" ${name}; echo ready; while :; do sleep 0.05; done`], {
        onSpawn: (child) => {
          child.stdout!.on('data', (d: Buffer) => {
            if (d.toString().includes('ready')) child.kill(signal);
          });
        },
      });
      expect(r.stdout).toMatch(new RegExp(`got-${name}`));
      expect(r.code).toBe(3);
    });
  }
});

describe('signal state', () => {
  it('starts the command with no signal ignored or blocked (Node ignores SIGPIPE)', async () => {
    const r = await sh('grep -E "^Sig(Ign|Blk)" /proc/self/status; yes | head -1');
    expect(r.stdout).toMatch(/^SigBlk:\s+0+$/m);
    expect(r.stdout).toMatch(/^SigIgn:\s+0+$/m);
    expect(r.stderr).toBe(''); // yes dies of SIGPIPE quietly instead of reporting EPIPE
  });
});

describe('--privileged', () => {
  it('gets the host\'s device nodes in its own /dev; an unprivileged container does not', async () => {
    const { listHostDevices } = await import('../../src/runtime/host-devices.js');
    const dev = listHostDevices().find((d) => !['null', 'zero', 'full', 'random', 'urandom', 'tty', 'console', 'ptmx'].includes(d.name));
    expect(dev, 'this host has no device beyond the standard ones').toBeDefined();
    const privileged = await sh(`stat -c "%t:%T" /dev/${dev!.name}`, ['--privileged']);
    expect(privileged.stdout.trim()).toBe(`${dev!.major.toString(16)}:${dev!.minor.toString(16)}`);
    const plain = await sh(`test -e /dev/${dev!.name} && echo present || echo absent`);
    expect(plain.stdout.trim()).toBe('absent');
  });
});
