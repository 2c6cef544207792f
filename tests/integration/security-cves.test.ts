/**
 * The CVE regression suite: real containers through the CLI, one test per escape that hit
 * runc, crun, bubblewrap or docker. Each test asserts what a vulnerable runtime would get
 * wrong, and where the probe itself could silently do nothing, a control run shows it works.
 *
 * The path and rootfs tests run twice: with openat2, and with openat2 made to fail (ENOSYS,
 * --no-openat2) so the userspace fallback is proven as well.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { MASKED_PATHS } from '../../src/mounts/plan.js';
import { STATIC_INIT_HOST_PATH } from '../../src/mounts/static-init.js';
import { setxattrAt } from '../../src/sys/fs.js';
import { rootfsWithSymlinks } from '../helpers/hostile-rootfs.js';
import { KEYCTL_JOIN_SESSION_KEYRING, SYS_IOCTL, SYS_KEYCTL, syscallElf, TIOCSTI } from '../helpers/syscall-elf.js';

const SYS_SETUID = 105;
import { rootfsTar, sh, testRoot, TSBOX_BIN, tsbox } from '../helpers/tsbox.js';

const EPERM = 1;
const ENOTTY = 25;
/** podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP. */
const DEFAULT_CAPS = [0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 31].reduce((m, b) => m | (1n << BigInt(b)), 0n);

let scratch: string;
/** Static probes, mounted read-only at /t. */
let tools: string;

beforeAll(() => {
  scratch = mkdtempSync(join(inject('workDir'), 'cves-'));
  tools = join(scratch, 'tools');
  mkdirSync(tools);
  const put = (name: string, elf: Buffer) => {
    writeFileSync(join(tools, name), elf);
    chmodSync(join(tools, name), 0o755);
  };
  put('keyctl', syscallElf(SYS_KEYCTL, [KEYCTL_JOIN_SESSION_KEYRING, 0]));
  put('tiocsti', syscallElf(SYS_IOCTL, [0, TIOCSTI, Buffer.from('\n')]));
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

afterEach(() => {
  const dir = join(testRoot(), 'containers');
  expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
});

function statusField(status: string, name: string): string {
  const m = new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status);
  if (!m) throw new Error(`no ${name} in:\n${status}`);
  return m[1]!;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function hostMountsUnder(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(path));
}

describe('capabilities (CVE-2022-29162)', () => {
  it('bounding = permitted = effective = the default set; inheritable and ambient empty', async () => {
    const r = await sh('cat /proc/self/status');
    expect(r.code).toBe(0);
    for (const set of ['CapBnd', 'CapPrm', 'CapEff']) expect(BigInt(`0x${statusField(r.stdout, set)}`)).toBe(DEFAULT_CAPS);
    expect(BigInt(`0x${statusField(r.stdout, 'CapInh')}`)).toBe(0n);
    expect(BigInt(`0x${statusField(r.stdout, 'CapAmb')}`)).toBe(0n);
  });

  it('a non-root user gains nothing from a file with +ei capabilities (even without no_new_privs)', async () => {
    const dir = mkdtempSync(join(scratch, 'fcaps-'));
    chmodSync(dir, 0o755); // user 1000 must reach the files
    const copy = await sh('mkdir /v/ei /v/ep && cp /bin/busybox /v/ei/ && cp /bin/busybox /v/ep/ && chmod 755 /v/ei /v/ep', ['-v', `${dir}:/v`]);
    expect(copy.code).toBe(0);
    // struct vfs_cap_data v2: magic|effective, then permitted/inheritable (low words, high words).
    const caps = (permitted: number, inheritable: number) => {
      const b = Buffer.alloc(20);
      b.writeUInt32LE(0x02000001, 0);
      b.writeUInt32LE(permitted, 4);
      b.writeUInt32LE(inheritable, 8);
      return b;
    };
    const dacAndBind = (1 << 1) | (1 << 10); // DAC_OVERRIDE, NET_BIND_SERVICE: both in the bounding set
    // busybox picks its applet from argv[0]: each copy keeps the name busybox.
    for (const [sub, value] of [['ei', caps(0, dacAndBind)], ['ep', caps(dacAndBind, 0)]] as const) {
      const fd = openSync(join(dir, sub), 'r');
      try {
        setxattrAt(fd, 'busybox', 'security.capability', value);
      } finally {
        closeSync(fd);
      }
    }
    const effAs1000 = async (file: string, extra: string[]) => {
      const r = await tsbox(['run', '-u', '1000', '-v', `${dir}:/v`, ...extra, rootfsTar(), `/v/${file}/busybox`, 'grep', 'CapEff', '/proc/self/status']);
      expect(r.stderr).toBe('');
      return BigInt(`0x${statusField(r.stdout, 'CapEff')}`);
    };
    // +ei gives caps only through the process's inheritable set, which must be empty
    // (no_new_privs is off by default, as in docker, and does not help here).
    expect(await effAs1000('ei', [])).toBe(0n);
    expect(await effAs1000('ei', ['--security-opt', 'no-new-privileges=false'])).toBe(0n);
    // --security-opt no-new-privileges stops even +ep...
    expect(await effAs1000('ep', ['--security-opt', 'no-new-privileges'])).toBe(0n);
    // ...which does work without it: the xattr is real, the probe can see a gain.
    expect(await effAs1000('ep', [])).toBe(BigInt(dacAndBind));
  });

  it('--debug shows the capability sets and the number of seccomp rules', async () => {
    const r = await tsbox(['run', '--debug', rootfsTar(), 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/"inheritable":\[\],"ambient":\[\]/);
    expect(r.stderr).toMatch(/"bounding":\["CAP_CHOWN"/);
    expect(Number(/"rules":(\d+)/.exec(r.stderr)?.[1])).toBeGreaterThan(100);
  });
});

describe('no_new_privs (issue 16.7: off by default, as in docker and podman)', () => {
  const nnp = async (opts: string[]) => statusField((await sh('cat /proc/self/status', opts.flatMap((o) => ['--security-opt', o]))).stdout, 'NoNewPrivs');

  it('is off by default, on with --security-opt no-new-privileges[=true]', async () => {
    expect(await nnp([])).toBe('0');
    expect(await nnp(['no-new-privileges'])).toBe('1');
    expect(await nnp(['no-new-privileges=true'])).toBe('1');
    expect(await nnp(['no-new-privileges=false'])).toBe('0');
  });

  it('a setuid-root program works for a non-root user by default, and not with no-new-privileges', async () => {
    const dir = mkdtempSync(join(scratch, 'suid-'));
    chmodSync(dir, 0o755); // nobody must reach the file
    // The probe calls setuid(0) and exits with its errno: only a process whose effective
    // uid became 0 may do that. (busybox will not do as a probe: it drops a setuid bit
    // itself for every applet but su, passwd and a few others.)
    writeFileSync(join(dir, 'setuid0'), syscallElf(SYS_SETUID, [0]), { mode: 0o755 });
    // As the container's root, as a user of the image would: chmod u+s.
    const made = await sh('chmod u+s /s/setuid0 && ls -l /s/setuid0', ['-v', `${dir}:/s`]);
    expect(made.stdout).toMatch(/^-rwsr-xr-x\s+1 root\s+root/);
    const asNobody = (extra: string[]) => tsbox(['run', '-u', '65534', '-v', `${dir}:/s:ro`, ...extra, rootfsTar(), '/s/setuid0']);
    expect((await asNobody([])).code).toBe(0);
    expect((await asNobody(['--security-opt', 'no-new-privileges'])).code).toBe(EPERM);
    // Control: without the setuid bit, nobody cannot become root.
    chmodSync(join(dir, 'setuid0'), 0o755);
    expect((await asNobody([])).code).toBe(EPERM);
  });
});

describe('namespaces, mounts and keys are out of reach (seccomp + capabilities)', () => {
  it('unshare -r, unshare -m, mounting proc or cgroup2 all fail', async () => {
    for (const cmd of ['unshare -r true', 'unshare -Ur true', 'unshare -m true', 'mkdir -p /m && mount -t proc proc /m', 'mkdir -p /m && mount -t cgroup2 none /m']) {
      const r = await sh(cmd);
      expect(r.code, cmd).not.toBe(0);
    }
  });

  it('keyctl fails with EPERM inside, works on the host (the probe is real)', async () => {
    expect(spawnSync(join(tools, 'keyctl')).status).toBe(0);
    const r = await tsbox(['run', '-v', `${tools}:/t:ro`, rootfsTar(), '/t/keyctl']);
    expect(r.code).toBe(EPERM);
  });
});

describe('masked and read-only kernel paths', () => {
  it('masked files read empty and cannot be written; masked directories are empty', async () => {
    const present = MASKED_PATHS.filter((p) => p.startsWith('/proc/') && existsSync(p));
    expect(present.length).toBeGreaterThan(0);
    for (const p of present) {
      const isDir = readdirSafe(p) !== null;
      const r = await sh(isDir ? `ls -A ${p} | wc -l` : `wc -c < ${p}; echo x > ${p} && echo WROTE`);
      expect(r.stdout, p).not.toMatch(/WROTE/);
      expect(r.stdout.trim().split('\n')[0], p).toBe('0');
    }
    // On the host the first masked file has content: masking is what empties it.
    const file = present.find((p) => readdirSafe(p) === null && readFileSync(p).length > 0);
    expect(file).toBeDefined();
  });

  it('/proc/sys, /sys and the cgroup view are read-only', async () => {
    const r = await sh('echo evil > /proc/sys/kernel/hostname && echo WROTE; cat /proc/sys/kernel/hostname; mkdir /sys/fs/cgroup/x && echo MADE; grep -E " /(sys|sys/fs/cgroup|proc/sys|proc/sysrq-trigger) " /proc/self/mountinfo');
    expect(r.stdout).not.toMatch(/WROTE|MADE|evil/);
    const lines = r.stdout.split('\n').filter((l) => / \/(sys|sys\/fs\/cgroup|proc\/sys|proc\/sysrq-trigger) /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l.split(' ')[5]!.split(','), l).toContain('ro');
  });
});

describe('fds (CVE-2024-21626 leaked an fd to a host directory)', () => {
  it('the command holds only fds 0, 1 and 2', async () => {
    // PID 1 is the shell (it stays, the ";" keeps it from exec'ing ls); ls reads its fds.
    const r = await sh('ls /proc/1/fd; true');
    expect(r.stdout.trim().split(/\s+/).sort()).toEqual(['0', '1', '2']);
  });
});

function readdirSafe(p: string): string[] | null {
  try {
    return readdirSync(p);
  } catch {
    return null;
  }
}

/** --no-openat2 (hidden, for testing): openat2 fails with ENOSYS, as before Linux 5.6. */
const RESOLVERS = [
  { name: 'openat2', flags: [] },
  { name: 'userspace fallback (openat2 fails with ENOSYS)', flags: ['--no-openat2'] },
];

describe.each(RESOLVERS)('paths resolved inside the root, $name', ({ flags }) => {
  it('-w /proc/self/fd/N is refused or stays inside the container (CVE-2024-21626)', async () => {
    const probe = `tsbox-cwd-probe-${process.pid}`;
    const watched = [testRoot(), inject('workDir'), '/', process.cwd(), '/var/tmp', dirname(TSBOX_BIN)];
    for (let n = 3; n <= 24; n++) {
      const r = await tsbox(['run', ...flags, '-w', `/proc/self/fd/${n}/${probe}`, rootfsTar(), 'sh', '-c', 'pwd; ls -a ..']);
      if (r.code === 0) {
        // Harmless only if the cwd is a directory of the container, not of the host.
        expect(r.stdout.startsWith('/'), r.stdout).toBe(true);
        expect(r.stdout).not.toMatch(/unreachable|tsbox-test|node_modules/);
      } else {
        expect(r.code).toBe(125);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
      for (const w of watched) expect(existsSync(join(w, probe)), `${w}/${probe} after fd ${n}`).toBe(false);
    }
  });

  const traps: { name: string; links: (canary: string) => Record<string, string>; args?: (canary: string, vol: string) => string[] }[] = [
    { name: 'proc -> absolute host path', links: (c) => ({ proc: c }) },
    { name: 'proc -> ../../.. escape', links: (c) => ({ proc: `../../../../../../../..${c}` }) },
    { name: 'sys -> absolute host path', links: (c) => ({ sys: c }) },
    { name: 'dev -> ../.. escape', links: (c) => ({ dev: `../../../../../../../..${c}` }) },
    { name: 'dev/shm and dev/pts -> host path', links: (c) => ({ 'dev/shm': c, 'dev/pts': c }) },
    { name: 'etc -> absolute host path', links: (c) => ({ etc: c }) },
    { name: 'etc -> ../.. escape', links: (c) => ({ etc: `../../../../../../../..${c}` }) },
    { name: 'volume target through a symlink', links: (c) => ({ data: c }), args: (_c, vol) => ['-v', `${vol}:/data/vol`, '--tmpfs', '/data/tmp'] },
  ];

  it.each(traps)('a rootfs with $name leaves the host untouched (CVE-2019-19921, CVE-2023-27561, CVE-2024-45310 class)', async (trap) => {
    const dir = mkdtempSync(join(scratch, 'trap-'));
    const canary = join(dir, 'canary');
    const vol = join(dir, 'vol');
    mkdirSync(canary);
    mkdirSync(vol);
    writeFileSync(join(canary, 'keep'), 'untouched');
    const tarPath = join(dir, 'hostile.tar');
    await rootfsWithSymlinks(rootfsTar(), tarPath, trap.links(realpathSync(canary)));
    const args = trap.args?.(canary, vol) ?? [];
    const r = await tsbox(['run', ...flags, ...args, tarPath, 'sh', '-c', 'stat -f -c %T /proc; stat -c %i /proc; cat /etc/hostname >/dev/null']);
    expect(r.code === 0 || r.code === 125, `${r.code}: ${r.stderr}`).toBe(true);
    if (r.code === 0) {
      // If the container ran, what it sees at /proc is the root of a real procfs.
      expect(r.stdout.split('\n').slice(0, 2)).toEqual(['proc', '1']);
    } else {
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readdirSync(canary)).toEqual(['keep']);
    expect(readFileSync(join(canary, 'keep'), 'utf8')).toBe('untouched');
    expect(hostMountsUnder(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a volume over /proc is refused: /proc must be procfs (CVE-2019-16884)', async () => {
    const fake = mkdtempSync(join(scratch, 'fakeproc-'));
    writeFileSync(join(fake, 'status'), 'fake');
    const r = await tsbox(['run', ...flags, '-v', `${fake}:/proc`, rootfsTar(), 'cat', '/proc/status']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/not procfs/);
    rmSync(fake, { recursive: true, force: true });
  });
});

describe('the host binary (CVE-2019-5736)', () => {
  /** node's shared libraries, bound read-only, so the host's node can really start in the container. */
  function nodeRuntimeVolumes(): string[] {
    const out = execFileSync('ldd', [process.execPath], { encoding: 'utf8' });
    const files = [...out.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!);
    const args: string[] = [];
    for (const f of new Set(files)) args.push('-v', `${realpathSync(f)}:${f}:ro`);
    return args;
  }

  it('#!/proc/self/exe starts the host\'s node in the container, which can neither write it nor any /proc/*/exe', async () => {
    const before = sha256(process.execPath);
    const dir = mkdtempSync(join(scratch, 'exe-'));
    const probe = [
      '#!/proc/self/exe',
      "const fs = require('fs');",
      'const r = { node: process.version };',
      // O_TRUNC makes the kernel check the mount (EROFS) before the text-busy state (ETXTBSY):
      // ETXTBSY would mean the binary is writable the moment it stops running.
      "try { fs.openSync('/proc/self/exe', 'w'); r.self = 'OPENED'; } catch (e) { r.self = e.code; }",
      "for (const p of fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n))) {",
      "  try { fs.closeSync(fs.openSync('/proc/' + p + '/exe', 'a')); r[p] = 'OPENED'; } catch (e) { r[p] = e.code; }",
      '}',
      'console.log(JSON.stringify(r));',
    ].join('\n');
    writeFileSync(join(dir, 'evil'), probe, { mode: 0o755 });
    const r = await tsbox(['run', '-v', `${dir}:/e:ro`, ...nodeRuntimeVolumes(), rootfsTar(), '/e/evil'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout) as Record<string, string>;
    expect(seen.node).toBe(process.version); // the host's node really ran inside
    expect(seen.self).toBe('EROFS');
    expect(Object.values(seen)).not.toContain('OPENED');
    expect(sha256(process.execPath)).toBe(before);
    rmSync(dir, { recursive: true, force: true });
  });

  it('with --init, PID 1 is tini: no process of the container can write it through /proc/1/exe', async () => {
    const before = sha256(STATIC_INIT_HOST_PATH);
    const script = 'readlink /proc/1/exe; (: > /proc/1/exe) 2>&1; for p in /proc/[0-9]*; do (: >> $p/exe) 2>/dev/null && echo "OPENED $p"; done; true';
    const r = await tsbox(['run', '--init', rootfsTar(), 'sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('/dev/init');
    expect(r.stdout).toMatch(/Read-only file system/); // O_TRUNC: the mount is checked first (EROFS)
    expect(r.stdout).not.toMatch(/OPENED/);
    expect(sha256(STATIC_INIT_HOST_PATH)).toBe(before);
  });

  // #10.3: the Node init that --init used to keep as PID 1 had 7 threads, and capset had
  // dropped the capabilities of one: the container could use the other 6 (it raced SIGUSR1
  // to start the inspector, loaded a library and made a host device node from a pool thread).
  it('with --init, every thread of PID 1 has exactly the container\'s capabilities, and PID 1 is not node', async () => {
    for (const extra of [[], ['--cap-drop', 'ALL', '--cap-add', 'KILL']]) {
      const script = 'cat /proc/1/comm; grep CapEff /proc/self/status; for t in /proc/1/task/*; do grep CapEff $t/status; done';
      const r = await tsbox(['run', '--init', ...extra, rootfsTar(), 'sh', '-c', script]);
      expect(r.code, r.stderr).toBe(0);
      const [comm, self, ...threads] = r.stdout.trim().split('\n');
      expect(comm).not.toBe('node');
      expect(threads.length).toBeGreaterThan(0);
      const expected = extra.length === 0 ? DEFAULT_CAPS : 1n << 5n; // CAP_KILL
      expect(BigInt(`0x${self!.split(/\s+/)[1]}`)).toBe(expected);
      for (const t of threads) expect(BigInt(`0x${t.split(/\s+/)[1]}`), r.stdout).toBe(expected);
    }
  });
});

describe('terminal (CVE-2017-5226)', () => {
  // script (bsdutils) is installed by tests/setup.sh.
  it('TIOCSTI into the terminal tsbox runs in fails (util-linux script provides the terminal)', async () => {
    const probe = join(tools, 'tiocsti');
    // Control: on the host, in its own session, the ioctl works, so a 0 inside would be an escape.
    expect(spawnSync('script', ['-qec', probe, '/dev/null'], { input: '' }).status).toBe(0);
    const inTerminal = (flag: string) => {
      const cmd = `${process.execPath} ${TSBOX_BIN} run ${flag} -v ${tools}:/t:ro ${rootfsTar()} /t/tiocsti; echo "status=$?"`;
      return spawnSync('script', ['-qec', cmd, '/dev/null'], { input: '', encoding: 'utf8', env: { ...process.env, TSBOX_ROOT: testRoot() }, timeout: 30_000 }).stdout;
    };
    // --no-tty: the container does not even hold the terminal, a pipe relays it (issue 10.4);
    // before, the kernel refused TIOCSTI on a terminal that is not the caller's (EPERM).
    expect(inTerminal('--no-tty')).toMatch(new RegExp(`status=${ENOTTY}\\b`));
  });
});
