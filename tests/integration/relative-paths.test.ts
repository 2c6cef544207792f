/**
 * Every host path option, given relative, names a file in the caller's working directory
 * (issue 10.8). Starting the container's init moves tsbox through the container's mount
 * namespace, and setns back resets the working directory to `/`: before the fix ROOTFS
 * was looked up as /demo.tar and --stats-file wrote /rel.json.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { rootfsTar, testRoot, TSBOX_BIN, type TsboxResult } from '../helpers/tsbox.js';

function tsboxIn(cwd: string, args: string[], env: Record<string, string> = { TSBOX_ROOT: testRoot() }): Promise<TsboxResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSBOX_BIN, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('relative paths resolve against the working directory of the caller', () => {
  let cwd: string;
  // A name no other test uses: if tsbox wrote it under / this test would see it there.
  const statsName = `tsbox-rel-stats-${process.pid}.json`;
  const stateA = `tsbox-rel-state-a-${process.pid}`;
  const stateB = `tsbox-rel-state-b-${process.pid}`;

  beforeAll(() => {
    cwd = mkdtempSync(join(inject('workDir'), 'cwd-'));
    copyFileSync(rootfsTar(), join(cwd, 'demo.tar'));
    writeFileSync(join(cwd, 'vars.env'), 'FROM_FILE=yes\n');
    mkdirSync(join(cwd, 'vol'));
    writeFileSync(join(cwd, 'vol', 'note'), 'from the volume\n');
    // A profile that allows everything but mkdir: seen only if this very file was read.
    writeFileSync(join(cwd, 'nomkdir.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
  });
  afterAll(() => {
    rmSync(cwd, { recursive: true, force: true });
    for (const name of [statsName, stateA, stateB]) rmSync(join('/', name), { recursive: true, force: true });
  });

  it('ROOTFS, --env-file, -v ./dir, --stats-file', async () => {
    const r = await tsboxIn(cwd, ['run', '--env-file', 'vars.env', '-v', './vol:/v:ro', '--stats-file', statsName, 'demo.tar', 'sh', '-c', 'echo $FROM_FILE; cat /v/note']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('yes\nfrom the volume\n');
    expect(existsSync(join('/', statsName))).toBe(false);
    expect(JSON.parse(readFileSync(join(cwd, statsName), 'utf8'))).toMatchObject({ exitCode: 0 });
  });

  it('-v with a parent-relative source (../)', async () => {
    const sub = join(cwd, 'sub');
    mkdirSync(sub, { recursive: true });
    const r = await tsboxIn(sub, ['run', '-v', '../vol:/v', '../demo.tar', 'cat', '/v/note']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from the volume\n');
  });

  it('--security-opt seccomp=PROFILE.json', async () => {
    const r = await tsboxIn(cwd, ['run', '--security-opt', 'seccomp=nomkdir.json', 'demo.tar', 'sh', '-c', 'mkdir /x 2>&1; echo status $?']);
    expect(r.stdout).toMatch(/Operation not permitted\nstatus 1\n$/);
    expect(r.code).toBe(0);
  });

  it('--root (and $TSBOX_ROOT) relative', async () => {
    for (const [args, env] of [[['--root', stateA], {}], [[], { TSBOX_ROOT: stateB }]] as const) {
      const { TSBOX_ROOT: _, ...rest } = process.env;
      const r = await tsboxIn(cwd, ['run', ...args, 'demo.tar', 'true'], { ...rest, ...env } as Record<string, string>);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect(existsSync(join(cwd, stateA, 'rootfs'))).toBe(true);
    expect(existsSync(join(cwd, stateB, 'rootfs'))).toBe(true);
  });

  it("the API leaves its caller's working directory where it was", async () => {
    // A program that calls run() and then reads a file by a relative name: before the fix the
    // run moved the whole process to /.
    const api = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `
      const { run } = await import(${JSON.stringify(api)});
      const codes = [];
      for (let i = 0; i < 2; i++) codes.push((await run({ rootfs: 'demo.tar', command: ['true'], root: ${JSON.stringify(testRoot())} })).exitCode);
      // process.cwd() is cached by Node and would not tell: ask the kernel, through '.'.
      const { realpathSync, readFileSync } = await import('node:fs');
      console.log(JSON.stringify({ codes, cwd: realpathSync('.'), env: readFileSync('vars.env', 'utf8') }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd });
    expect(JSON.parse(stdout)).toEqual({ codes: [0, 0], cwd: realpathSync(cwd), env: 'FROM_FILE=yes\n' });
  });

  it('a relative path that does not exist is named as typed, relative to the caller', async () => {
    const r = await tsboxIn(cwd, ['run', '--env-file', 'missing.env', 'demo.tar', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot read --env-file missing\.env: no such file/);
  });
});
