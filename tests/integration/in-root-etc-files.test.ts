/**
 * The init reads the container's /etc/passwd to resolve `-u NAME` while it is still host
 * root, through the in-root resolver (src/fs/in-root): with openat2, and with the userspace
 * walk (--no-openat2, as before Linux 5.6). An image whose /etc is a symlink climbing out of
 * the root must not make it read a host file: here a host directory holds a passwd naming
 * an "intruder" user, and the image's etc points at it with "../..".
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rootfsWithSymlinks } from '../helpers/hostile-rootfs.js';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const RESOLVERS = [
  { name: 'openat2', flags: [] },
  { name: 'userspace fallback', flags: ['--no-openat2'] },
];

let scratch: string;
let hostileTar: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(inject('workDir'), 'in-root-etc-'));
  const hostEtc = join(scratch, 'host-etc');
  mkdirSync(hostEtc);
  writeFileSync(join(hostEtc, 'passwd'), 'intruder:x:4242:4242:intruder:/:/bin/sh\n');
  writeFileSync(join(hostEtc, 'group'), 'intruder:x:4242:\n');
  hostileTar = join(scratch, 'hostile.tar');
  await rootfsWithSymlinks(rootfsTar(), hostileTar, { etc: `../../../../../../../..${realpathSync(hostEtc)}` });
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(RESOLVERS)('-u NAME reads the image\'s /etc/passwd inside the root, $name', ({ flags }) => {
  it('finds the image\'s user', async () => {
    const r = await tsbox(['run', ...flags, '-u', 'nobody', rootfsTar(), 'id', '-u']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('65534');
  });

  it('never reads a host passwd through an /etc symlink climbing out of the root', async () => {
    const r = await tsbox(['run', ...flags, '-u', 'intruder', hostileTar, 'id', '-u']);
    expect(r.stdout).not.toContain('4242');
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
