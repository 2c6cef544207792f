/**
 * Device nodes against real containers (issue 10, finding 2). The targets are harmless:
 * loop devices over small files made here, and /dev/kmsg written with a unique marker that
 * the host's kernel log must not show. An image that ships a block node for a host device,
 * a volume that holds one, and a container that makes one with CAP_MKNOD must all fail to
 * reach the device; --device and --device-cgroup-rule must grant exactly what they say; the
 * default devices, ptys and --privileged must work as before.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rootfsTar, testRoot, TSBOX_BIN, tsbox, type TsboxResult } from '../helpers/tsbox.js';

interface Loop {
  device: string;
  backing: string;
  major: number;
  minor: number;
}

let scratch: string;
/** busybox plus block nodes for both loop devices and a /dev/kmsg node (c 1:11), outside /dev. */
let image: string;
/** Written by no container: must stay all zeros. */
let victim: Loop;
/** The one the positive tests write to (--device, rules, --privileged). */
let granted: Loop;
const loops: Loop[] = [];
const SIZE = 64 * 1024;

function attachLoop(name: string): Loop {
  const backing = join(scratch, name);
  writeFileSync(backing, Buffer.alloc(SIZE));
  const device = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' }).trim();
  const rdev = statSync(device).rdev;
  const loop = { device, backing, major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
  loops.push(loop);
  return loop;
}

/** The loop's backing file, read from the host; the loop has no cache of its own for it to hide in. */
function contents(loop: Loop): Buffer {
  return readFileSync(loop.backing);
}

function zero(loop: Loop): void {
  writeFileSync(loop.backing, Buffer.alloc(SIZE));
}

beforeAll(() => {
  scratch = mkdtempSync(join(inject('workDir'), 'devices-'));
  victim = attachLoop('victim.img');
  granted = attachLoop('granted.img');
  // The attacker's image: what an archive with these members gives (GNU tar appends them).
  const nodes = join(scratch, 'nodes');
  mkdirSync(join(nodes, 'srv'), { recursive: true });
  execFileSync('mknod', [join(nodes, 'srv', 'victim'), 'b', String(victim.major), String(victim.minor)]);
  execFileSync('mknod', [join(nodes, 'srv', 'granted'), 'b', String(granted.major), String(granted.minor)]);
  execFileSync('mknod', [join(nodes, 'srv', 'kmsg'), 'c', '1', '11']);
  image = join(scratch, 'devices.tar');
  copyFileSync(rootfsTar(), image);
  execFileSync('tar', ['--append', '-f', image, '-C', nodes, 'srv']);
});

afterAll(() => {
  for (const loop of loops) spawnSync('losetup', ['-d', loop.device]);
  rmSync(scratch, { recursive: true, force: true });
});

const run = (args: string[], script: string): Promise<TsboxResult> => tsbox(['run', ...args, image, '/bin/sh', '-c', script]);

/** The shell's status of each probe, printed as NAME=status. */
const status = (out: string, name: string) => new RegExp(`^${name}=(\\d+)$`, 'm').exec(out)?.[1];

describe('device nodes an image ships', () => {
  it('a block node for a host loop device: a default container can neither write nor read the device', async () => {
    writeFileSync(victim.backing, Buffer.concat([Buffer.from('host-secret'), Buffer.alloc(SIZE - 11)]));
    const r = await run([], 'echo MARKER > /srv/victim; echo write=$?; head -c 11 /srv/victim; echo; echo read=$?');
    expect(r.code).toBe(0);
    expect(status(r.stdout, 'write')).not.toBe('0');
    expect(r.stdout).not.toContain('host-secret');
    expect(contents(victim).subarray(0, 11).toString()).toBe('host-secret');
    zero(victim);
  });

  it('a /dev/kmsg node (c 1:11): writing into the host\'s kernel log fails', async () => {
    const marker = `tsbox-devices-kmsg-${process.pid}-${Date.now()}`;
    const r = await run([], `echo ${marker} > /srv/kmsg; echo write=$?`);
    expect(status(r.stdout, 'write')).not.toBe('0');
    expect(execFileSync('dmesg', { encoding: 'utf8' })).not.toContain(marker);
  });

  it('is mounted nodev, as are volumes, and stays nodev read-only; /dev is not nodev', async () => {
    const r = await run(['--read-only', '-v', `${scratch}:/vol`], "awk '$5 == \"/\" || $5 == \"/vol\" || $5 == \"/dev\" { print $5, $6 }' /proc/self/mountinfo");
    expect(r.code).toBe(0);
    const options = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
    expect(options['/']!.split(',')).toEqual(expect.arrayContaining(['ro', 'nodev']));
    expect(options['/vol']!.split(',')).toContain('nodev');
    expect(options['/dev']!.split(',')).not.toContain('nodev');
  });
});

describe('volumes, now remounted nodev', () => {
  it('keep the flags of their host mount (nosuid, noexec), read-write and read-only', () => {
    // A nosuid,noexec tmpfs in a mount namespace of the test's own, gone with it.
    const dir = join(scratch, 'flagged');
    mkdirSync(dir, { recursive: true });
    const command = `mount -t tmpfs -o nosuid,noexec,size=1m tmpfs ${dir} && exec ${TSBOX_BIN} run -v ${dir}:/rw -v ${dir}:/ro:ro ${image} /bin/sh -c 'awk "\\$5 == \\"/rw\\" || \\$5 == \\"/ro\\" { print \\$5, \\$6 }" /proc/self/mountinfo'`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', command], { encoding: 'utf8', env: { ...process.env, TSBOX_ROOT: testRoot() }, timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const options = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
    expect(options['/rw']!.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
    expect(options['/ro']!.split(',')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
  });
});

describe('device nodes a container makes or is given', () => {
  it('a node in a volume does not open the host device', async () => {
    const r = await run(['-v', `${join(scratch, 'nodes')}:/nodes`], 'echo MARKER > /nodes/srv/victim; echo write=$?');
    expect(status(r.stdout, 'write')).not.toBe('0');
    expect(contents(victim).equals(Buffer.alloc(SIZE))).toBe(true);
  });

  it('--cap-add MKNOD: the node can be made in /dev, where nodes open, but the device policy refuses to open it', async () => {
    const { major, minor } = victim;
    const r = await run(['--cap-add', 'MKNOD'], `mknod /dev/disk b ${major} ${minor} && echo made; echo MARKER > /dev/disk; echo write=$?; head -c 1 /dev/disk > /dev/null; echo read=$?; mknod /tmp/kmsg c 1 11; echo x > /tmp/kmsg; echo kmsg=$?; mknod /dev/console c 5 1; echo > /dev/console; echo console=$?`);
    expect(r.stdout).toContain('made');
    expect(status(r.stdout, 'write')).not.toBe('0');
    expect(status(r.stdout, 'read')).not.toBe('0');
    expect(status(r.stdout, 'kmsg')).not.toBe('0');
    expect(status(r.stdout, 'console')).not.toBe('0'); // the host's console: docker allows c 5:1, tsbox does not
    expect(r.stderr).toMatch(/can't create \/dev\/disk: Operation not permitted/); // EPERM: the cgroup program said no
    expect(contents(victim).equals(Buffer.alloc(SIZE))).toBe(true);
  });

  it('--cap-add SYS_ADMIN: a devtmpfs holds every host device, and a remount drops nodev, but the policy refuses them all', async () => {
    const name = victim.device.slice('/dev/'.length);
    const r = await run(['--cap-add', 'SYS_ADMIN'], `mkdir /m && mount -t devtmpfs none /m && echo mounted; echo MARKER > /m/${name}; echo devtmpfs=$?; mount -o remount,dev / && echo remounted; echo MARKER > /srv/victim; echo image=$?`);
    expect(r.stdout).toContain('mounted');
    expect(r.stdout).toContain('remounted');
    expect(status(r.stdout, 'devtmpfs')).not.toBe('0');
    expect(status(r.stdout, 'image')).not.toBe('0');
    expect(contents(victim).equals(Buffer.alloc(SIZE))).toBe(true);
  });

  it('an exec\'d process is under the same policy; the program hangs on the container\'s group and goes with it', async () => {
    const name = `devices-exec-${process.pid}`;
    try {
      expect((await tsbox(['run', '-d', '--name', name, '--cap-add', 'MKNOD', image, 'sleep', '600'])).code).toBe(0);
      const r = await tsbox(['exec', name, '/bin/sh', '-c', `mknod /dev/d b ${victim.major} ${victim.minor}; echo MARKER > /dev/d; echo write=$?`]);
      expect(status(r.stdout, 'write')).not.toBe('0');
      expect(contents(victim).equals(Buffer.alloc(SIZE))).toBe(true);

      const cgroup = JSON.stringify(JSON.parse((await tsbox(['inspect', name])).stdout)).match(/"cgroup":"([^"]+)"/)![1]!;
      const attached = execFileSync('bpftool', ['cgroup', 'show', cgroup], { encoding: 'utf8' });
      expect(attached).toMatch(/^\s*\d+\s+cgroup_device\s+multi\s+tsbox_devices\s*$/m);
    } finally {
      await tsbox(['rm', '-f', name]);
    }
    // Removing the group detaches the program; the kernel frees it shortly after.
    const deadline = Date.now() + 10_000;
    // (bpftool exits 255 when no program has the name.)
    while (spawnSync('bpftool', ['prog', 'show', 'name', 'tsbox_devices'], { encoding: 'utf8' }).stdout.trim() !== '') {
      if (Date.now() > deadline) throw new Error('a tsbox_devices program stayed loaded after its container was removed');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('--device HOST:CONTAINER gives the device, read and write, with the host node\'s mode and owner', async () => {
    const host = statSync(granted.device);
    const r = await run(['--device', `${granted.device}:/dev/disk0`], 'echo MARKER > /dev/disk0; echo write=$?; stat -c "%f %u %g %t %T" /dev/disk0');
    expect(status(r.stdout, 'write')).toBe('0');
    expect(r.stdout).toContain(`${host.mode.toString(16)} ${host.uid} ${host.gid} ${granted.major.toString(16)} ${granted.minor.toString(16)}`);
    expect(contents(granted).subarray(0, 7).toString()).toBe('MARKER\n');
    expect(contents(victim).equals(Buffer.alloc(SIZE))).toBe(true);
    zero(granted);
  });

  it('--device HOST:r gives read only', async () => {
    writeFileSync(granted.backing, Buffer.concat([Buffer.from('granted-data'), Buffer.alloc(SIZE - 12)]));
    const r = await run(['--device', `${granted.device}:r`], `head -c 12 ${granted.device}; echo; echo MARKER > ${granted.device}; echo write=$?`);
    expect(r.stdout).toContain('granted-data');
    expect(status(r.stdout, 'write')).not.toBe('0');
    expect(contents(granted).subarray(0, 12).toString()).toBe('granted-data');
    zero(granted);
  });

  it('--device-cgroup-rule allows what it names, and only that', async () => {
    const make = `mknod /dev/g b ${granted.major} ${granted.minor}; mknod /dev/v b ${victim.major} ${victim.minor}`;
    const rw = await run(['--cap-add', 'MKNOD', '--device-cgroup-rule', `b ${granted.major}:${granted.minor} rw`], `${make}; echo MARKER > /dev/g; echo granted=$?; echo MARKER > /dev/v; echo victim=$?`);
    expect(status(rw.stdout, 'granted')).toBe('0');
    expect(status(rw.stdout, 'victim')).not.toBe('0');
    expect(contents(granted).subarray(0, 7).toString()).toBe('MARKER\n');
    expect(contents(victim).equals(Buffer.alloc(SIZE))).toBe(true);
    zero(granted);

    const readOnly = await run(['--cap-add', 'MKNOD', '--device-cgroup-rule', `b ${granted.major}:* r`], `${make}; head -c 1 /dev/g > /dev/null; echo read=$?; echo MARKER > /dev/g; echo write=$?`);
    expect(status(readOnly.stdout, 'read')).toBe('0');
    expect(status(readOnly.stdout, 'write')).not.toBe('0');
    expect(contents(granted).equals(Buffer.alloc(SIZE))).toBe(true);
  });

  it('refuses a bad --device or --device-cgroup-rule in one line, exit 125, before anything runs', async () => {
    for (const [args, message] of [
      [['--device-cgroup-rule', 'x 1:3 rwm'], /^tsbox: invalid --device-cgroup-rule 'x 1:3 rwm': the type is not a \(all\), c \(char\) or b \(block\)\. /],
      [['--device', `${granted.device}:/opt/disk`], /^tsbox: invalid --device '.*': the container path \/opt\/disk is not under \/dev/],
      [['--device', `${join(scratch, 'victim.img')}:/dev/x`], /^tsbox: invalid --device '.*victim\.img': it is not a device node\. /],
      [['--device', join(scratch, 'victim.img')], /^tsbox: invalid --device '.*victim\.img': .*victim\.img \(the container path, when none is given\) is not under \/dev/],
      [['--device', '/dev/no-such-device'], /^tsbox: invalid --device '\/dev\/no-such-device': no such device on this host\. /],
    ] as const) {
      const r = await run([...args], 'echo ran');
      expect(r.code).toBe(125);
      expect(r.stdout).not.toContain('ran');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('what keeps working', () => {
  it('the default devices: null, zero, full, random, urandom, tty, ptmx', async () => {
    const r = await run([], [
      'echo x > /dev/null; echo null=$?',
      'head -c 4 /dev/zero | od -An -tx1 | tr -d " \\n"; echo; echo zero=$?',
      'echo x > /dev/full; echo full=$?',
      'head -c 4 /dev/random > /dev/null; echo random=$?',
      'head -c 4 /dev/urandom > /dev/null; echo urandom=$?',
      'exec 3<>/dev/ptmx; echo ptmx=$?',
    ].join('; '));
    expect(r.code).toBe(0);
    for (const name of ['null', 'zero', 'random', 'urandom', 'ptmx']) expect(status(r.stdout, name), name).toBe('0');
    expect(r.stdout).toContain('00000000');
    expect(status(r.stdout, 'full')).toBe('1'); // ENOSPC: the device opened, and said what /dev/full says
    expect(r.stderr).toMatch(/No space left on device/);
  });

  it('-t: the container\'s pty is its terminal, and /dev/tty opens', () => {
    // script(1) gives tsbox a terminal on stdin, so -t gets a pty of the container's devpts.
    const command = `TSBOX_ROOT=${testRoot()} ${TSBOX_BIN} run -t ${image} /bin/sh -c 'tty; echo hello > /dev/tty; echo tty=$?'`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', input: '', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/pts\/0/);
    expect(r.stdout).toContain('hello');
    expect(r.stdout).toMatch(/tty=0/);
  });

  it('--privileged: no device policy and no nodev, as before (the image\'s node opens)', async () => {
    const r = await run(['--privileged'], `echo MARKER > /srv/granted; echo write=$?; test -b ${granted.device}; echo host=$?`);
    expect(status(r.stdout, 'write')).toBe('0');
    expect(status(r.stdout, 'host')).toBe('0'); // the host's devices are recreated in /dev
    expect(contents(granted).subarray(0, 7).toString()).toBe('MARKER\n');
    zero(granted);
  });
});

describe('where no cgroup v2 is mounted (a mount namespace without it)', () => {
  /** tsbox in a private mount namespace where the cgroup2 mount is gone. */
  const withoutCgroup2 = (args: string[], script: string) => {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2 /.test(l)).map((l) => l.split(' ')[4]!);
    const unmount = mounts.map((m) => `umount -l ${m}`).join('; ');
    const command = `${unmount}; exec ${TSBOX_BIN} run ${args.join(' ')} ${image} /bin/sh -c '${script}'`;
    return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', command], { encoding: 'utf8', env: { ...process.env, TSBOX_ROOT: testRoot() }, timeout: 30_000 });
  };

  it('runs a default container, whose image nodes stay shut (nodev)', () => {
    const r = withoutCgroup2([], 'echo MARKER > /srv/victim; echo write=$?');
    expect(r.status).toBe(0);
    expect(status(r.stdout, 'write')).not.toBe('0');
    expect(contents(victim).equals(Buffer.alloc(SIZE))).toBe(true);
  });

  it('refuses --cap-add MKNOD and --device-cgroup-rule in one line, exit 125', () => {
    const mknod = withoutCgroup2(['--cap-add', 'MKNOD'], 'echo ran');
    expect(mknod.status).toBe(125);
    expect(mknod.stdout).not.toContain('ran');
    expect(mknod.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tsbox: apply device policy: cannot give the container MKNOD without a device policy \(there is no writable cgroup v2 hierarchy on this host\)/)]);

    const rule = withoutCgroup2(['--device-cgroup-rule', "'c 1:3 r'"], 'echo ran');
    expect(rule.status).toBe(125);
    expect(rule.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tsbox: apply device policy: cannot apply --device-cgroup-rule: there is no writable cgroup v2 hierarchy/)]);
  });
});
