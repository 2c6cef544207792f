/**
 * Bad input: one line on stderr that says what is wrong and how to fix it, exit status
 * 125, and nothing left behind (no container directory, no cgroup).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { findCgroup2Mount } from '../../src/cgroups/index.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { rootfsTar, testRoot, tsbox, TSBOX_BIN } from '../helpers/tsbox.js';

function cgroupChildren(): string[] {
  const parent = '/sys/fs/cgroup/unified/tsbox';
  return existsSync(parent) ? readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
}

async function expectRefused(args: string[], message: RegExp, opts: { code?: number } = {}): Promise<void> {
  const cgroupsBefore = cgroupChildren();
  const r = await tsbox(args);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tsbox: /);
  expect(lines[0]).toMatch(message);
  expect(r.code).toBe(opts.code ?? 125);
  expect(r.stdout).toBe('');
  const containers = join(testRoot(), 'containers');
  expect(existsSync(containers) ? readdirSync(containers) : []).toEqual([]);
  expect(cgroupChildren()).toEqual(cgroupsBefore);
}

describe('bad input is refused with one line and exit 125', () => {
  const tar = () => rootfsTar();
  const scratch = () => inject('workDir');

  it('unknown flags and missing arguments', async () => {
    await expectRefused(['run', '--no-such-flag', tar()], /unknown option '--no-such-flag'/);
    await expectRefused(['run'], /missing required argument 'rootfs'/);
    await expectRefused(['no-such-command'], /unknown command 'no-such-command'/);
  });

  it('a missing rootfs, and a file that is not an archive', async () => {
    await expectRefused(['run', '/no/such/rootfs.tar', 'true'], /rootfs \/no\/such\/rootfs.tar: no such file or directory/);
    const junk = join(scratch(), 'junk.tar');
    writeFileSync(junk, 'this is not a tar archive at all, just text that goes on for a while '.repeat(20));
    await expectRefused(['run', junk, 'true'], /not a tar or gzip archive/);
  });

  it('volume, tmpfs and env syntax', async () => {
    await expectRefused(['run', '-v', 'relative:/x', tar(), 'true'], /invalid -v 'relative:\/x': host path 'relative' is not absolute/);
    await expectRefused(['run', '-v', '/no/such/dir:/x', tar(), 'true'], /host path \/no\/such\/dir does not exist/);
    await expectRefused(['run', '-v', '/tmp:/x:rx', tar(), 'true'], /unknown option 'rx'/);
    await expectRefused(['run', '--tmpfs', 'rel', tar(), 'true'], /invalid --tmpfs 'rel'/);
    await expectRefused(['run', '--tmpfs', '/t:bogus', tar(), 'true'], /unknown option 'bogus'/);
    await expectRefused(['run', '-e', '1BAD=x', tar(), 'true'], /'1BAD' is not a valid variable name/);
    await expectRefused(['run', '--env-file', '/no/such.env', tar(), 'true'], /cannot read --env-file \/no\/such.env: no such file/);
    const badEnv = join(scratch(), 'bad.env');
    writeFileSync(badEnv, 'GOOD=1\nnot valid\n');
    await expectRefused(['run', '--env-file', badEnv, tar(), 'true'], /bad\.env line 2/);
  });

  it('hostname, user and working directory', async () => {
    await expectRefused(['run', '--hostname', 'bad_name!', tar(), 'true'], /invalid --hostname 'bad_name!'/);
    await expectRefused(['run', '-u', 'a:b:c', tar(), 'true'], /invalid --user 'a:b:c'/);
    await expectRefused(['run', '-u', 'ghost', tar(), 'true'], /user 'ghost' not found in the container's \/etc\/passwd/);
    await expectRefused(['run', '-u', 'root:ghosts', tar(), 'true'], /group 'ghosts' not found/);
    await expectRefused(['run', '-w', 'relative', tar(), 'true'], /invalid -w 'relative': the working directory must be an absolute path/);
    await expectRefused(['run', '-w', '/etc/passwd', tar(), 'true'], /set working directory: \/etc\/passwd is a file in the container, not a directory\. Pass a directory inside the image to -w\/--workdir\./);
  });

  it('sizes, limits, security options and log settings', async () => {
    await expectRefused(['run', '--max-rootfs-size', 'huge', tar(), 'true'], /invalid --max-rootfs-size value 'huge'/);
    await expectRefused(['run', '--memory', 'lots', tar(), 'true'], /--memory/);
    await expectRefused(['run', '--cpus', '-1', tar(), 'true'], /--cpus/);
    await expectRefused(['run', '--pids-limit', 'many', tar(), 'true'], /--pids-limit/);
    await expectRefused(['run', '--cap-add', 'CAP_FLY', tar(), 'true'], /CAP_FLY|FLY/);
    await expectRefused(['run', '--security-opt', 'seccomp=/no/such.json', tar(), 'true'], /\/no\/such\.json/);
    await expectRefused(['run', '--log-level', 'loud', tar(), 'true'], /loud/);
  });

  it('limits that need a controller this host\'s cgroup v2 lacks are refused before anything starts (and work where it has them)', async () => {
    const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
    const controllers = mount ? readFileSync(join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/) : [];
    for (const [controller, flag, value] of [['memory', '--memory', '64m'], ['pids', '--pids-limit', '64']] as const) {
      if (controllers.includes(controller)) {
        const r = await tsbox(['run', flag, value, tar(), 'true']);
        expect({ flag, code: r.code, stderr: r.stderr }).toEqual({ flag, code: 0, stderr: '' });
      } else {
        await expectRefused(['run', flag, value, tar(), 'true'], new RegExp(`${controller} controller is not available in cgroup v2 on this host \\((it is bound to cgroup v1|the kernel does not offer it)`));
      }
    }
  });

  it('without root: says that namespaces need root, and how to get it', () => {
    // A world-readable rootfs and a state root of nobody's own, so that the one thing missing is root.
    const dir = mkdtempSync('/tmp/tsbox-nonroot-');
    try {
      chmodSync(dir, 0o755);
      const tarCopy = join(dir, 'rootfs.tar');
      copyFileSync(tar(), tarCopy);
      chmodSync(tarCopy, 0o644);
      const root = join(dir, 'root');
      mkdirSync(root);
      chownSync(root, 65534, 65534);
      const r = spawnSync(TSBOX_BIN, ['run', tarCopy, 'true'], { uid: 65534, gid: 65534, env: { PATH: process.env.PATH ?? '', TSBOX_ROOT: root }, encoding: 'utf8' });
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^tsbox: spawn init: unshare\(.*\): EPERM .*needs root .*run tsbox as root/);
      expect(r.status).toBe(125);
      expect(readdirSync(join(root, 'containers'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a rootfs directory that is empty runs nothing, with 127', async () => {
    const empty = join(scratch(), 'empty-rootfs');
    mkdirSync(empty, { recursive: true });
    await expectRefused(['run', empty], /\/bin\/sh: no such file or directory in the container/, { code: 127 });
  });
});
