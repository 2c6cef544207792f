/**
 * Issue 10.9, as an attacker plays it: another user (nobody) plants something at the name
 * the administrator will pass to --stats-file, in a sticky world-writable directory like
 * /tmp, hoping root writes through it. The run must refuse with one line and status 125,
 * and the target must stay as it was. (The host's fs.protected_symlinks would stop the
 * symlink case by itself where it is on; tsbox must not rely on it.)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const asNobody = (...cmd: string[]) => execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd]);

describe('--stats-file in a directory other users can write to', () => {
  let shared: string;
  let target: string;

  beforeAll(() => {
    shared = mkdtempSync('/tmp/tsbox-shared-');
    chmodSync(shared, 0o1777);
    // Root's file the attacker wants overwritten: somewhere only root can write.
    target = join(inject('workDir'), `precious-${process.pid}`);
    writeFileSync(target, 'precious\n', { mode: 0o600 });
  });
  afterAll(() => {
    rmSync(shared, { recursive: true, force: true });
    rmSync(target, { force: true });
  });

  async function expectRefusedAndUnchanged(name: string, why: RegExp): Promise<void> {
    const r = await tsbox(['run', '--stats-file', join(shared, name), rootfsTar(), 'echo', 'ran']);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^tsbox: refusing --stats-file /);
    expect(lines[0]).toMatch(why);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe(''); // refused before the container ran
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
  }

  it("a symlink planted by nobody: root does not follow it to its target", async () => {
    asNobody('ln', '-s', target, join(shared, 'link.json'));
    expect(lstatSync(join(shared, 'link.json')).uid).toBe(65534);
    await expectRefusedAndUnchanged('link.json', /symbolic link/);
  });

  it("a file of nobody's, a FIFO (no hang), a directory", async () => {
    asNobody('sh', '-c', `echo mine > ${join(shared, 'theirs.json')}`);
    await expectRefusedAndUnchanged('theirs.json', /belongs to uid 65534/);
    expect(readFileSync(join(shared, 'theirs.json'), 'utf8')).toBe('mine\n');
    asNobody('mkfifo', join(shared, 'fifo.json'));
    await expectRefusedAndUnchanged('fifo.json', /not a regular file/);
    asNobody('mkdir', join(shared, 'dir.json'));
    await expectRefusedAndUnchanged('dir.json', /a directory/);
  });

  it('a new name, and a file of its own from an earlier run, are written', async () => {
    const mine = join(shared, `mine-${process.pid}.json`);
    for (let i = 0; i < 2; i++) {
      const r = await tsbox(['run', '--stats-file', mine, rootfsTar(), 'true']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(readFileSync(mine, 'utf8'))).toMatchObject({ exitCode: 0 });
      expect(lstatSync(mine).mode & 0o777).toBe(0o644);
    }
    expect(existsSync(target)).toBe(true);
  });
});
