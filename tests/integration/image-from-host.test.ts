/**
 * `tsbox rootfs from-host`: the tarball extracts through tsbox's own extractor into a
 * tree with a working /bin/sh, from busybox or, without it, from the host's /bin/sh and
 * its libraries (run with chroot to prove the tree is self-contained).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRootfsFromHost, prepareImage } from '../../src/image/index.js';
import { silentLogger } from '../../src/log.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'tsbox-image-from-host-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('buildRootfsFromHost', () => {
  // busybox-static is installed by tests/setup.sh.
  it('builds a busybox rootfs whose /bin/sh runs', async () => {
    const out = join(work, 'rootfs.tar');
    const built = await buildRootfsFromHost(out);
    expect(built.kind).toBe('busybox');
    const prepared = await prepareImage(out, { root: join(work, 'state'), maxRootfsSize: 1e9, log: silentLogger });
    const tree = prepared.treeDir;
    expect(readlinkSync(join(tree, 'bin/sh'))).toBe('/bin/busybox');
    expect(lstatSync(join(tree, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(lstatSync(join(tree, 'home/tsbox')).uid).toBe(1000);
    expect(readFileSync(join(tree, 'etc/passwd'), 'utf8')).toMatch(/^tsbox:x:1000:1000:/m);
    const applets = execFileSync('/bin/busybox', ['--list']).toString().trim().split('\n');
    expect(applets.filter((a) => existsSync(join(tree, 'bin', a)) || lstatSync(join(tree, 'bin', a), { throwIfNoEntry: false }))).toHaveLength(applets.length);
    const out2 = execFileSync('chroot', [tree, '/bin/sh', '-c', 'echo hello from $(basename $0); ls /bin | wc -l']).toString();
    expect(out2).toMatch(/^hello from sh\n\s*\d+\n$/);
  });

  it('is reproducible (same bytes, same digest) and gzip works', async () => {
    const a = join(work, 'a.tar');
    const b = join(work, 'b.tar');
    await buildRootfsFromHost(a);
    await buildRootfsFromHost(b);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const gz = join(work, 'c.tar.gz');
    await buildRootfsFromHost(gz, { gzip: true });
    expect(readFileSync(gz).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('without busybox: /bin/sh and its libraries, runnable in a chroot', async () => {
    const out = join(work, 'sh.tar');
    const built = await buildRootfsFromHost(out, { busybox: null });
    expect(built.kind).toBe('shell');
    const prepared = await prepareImage(out, { root: join(work, 'state'), maxRootfsSize: 1e9, log: silentLogger });
    const said = execFileSync('chroot', [prepared.treeDir, '/bin/sh', '-c', 'echo works; read x < /etc/passwd; echo "$x"']).toString();
    expect(said).toBe('works\nroot:x:0:0:root:/root:/bin/sh\n');
  });

  it('fails with a clear message when the output cannot be written', async () => {
    await expect(buildRootfsFromHost(join(work, 'no/such/dir/out.tar'))).rejects.toThrow(/^building a rootfs from the host: .*ENOENT/);
  });
});
