/**
 * Extraction fidelity: the tree tsbox extracts from an archive is the tree GNU tar
 * extracts as root (--numeric-owner -p --xattrs), node for node: types, modes with
 * setuid/setgid/sticky, owners, mtimes, symlink targets, hard links, devices, fifos,
 * xattrs (binary security.capability), long names. And the openat2-less fallback
 * (--no-openat2 in a child process) gives the same tree.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareImage } from '../../src/image/index.js';
import { silentLogger } from '../../src/log.js';
import { bundleImageWorker, runImageWorker, type Bundled } from '../helpers/image-child.js';
import { tarArchive, type TarEntry } from '../helpers/image-tar.js';
import { snapshotTree } from '../helpers/image-tree.js';

// VFS_CAP_REVISION_2 | effective; permitted = CAP_SETUID (bit 7, byte 0x80) | CAP_NET_RAW (bit 13).
const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const big = randomBytes(3 * 1024 * 1024 + 17);
const longDir = 'd'.repeat(90) + '/' + 'e'.repeat(90);
const longName = `${longDir}/${'f'.repeat(120)}`;

function fidelityEntries(): TarEntry[] {
  const t = 1_650_000_000;
  return [
    { name: './', type: '5', mode: 0o755, mtime: t },
    { name: 'bin/', type: '5', mode: 0o755, mtime: t + 1 },
    { name: 'bin/busybox', mode: 0o755, data: big, mtime: t + 2 },
    { name: 'bin/sh', type: '2', linkname: '/bin/busybox', mtime: t + 3 },
    { name: 'etc/', type: '5', mode: 0o755, mtime: t + 4 },
    { name: 'etc/passwd', mode: 0o644, data: 'root:x:0:0::/root:/bin/sh\n', mtime: t + 5 },
    { name: 'etc/shadow', mode: 0o640, gid: 42, data: 'root:*::0:::::\n', mtime: t + 6 },
    { name: 'usr/', type: '5', mode: 0o755, mtime: t + 7 },
    { name: 'usr/bin/', type: '5', mode: 0o755, mtime: t + 8, pax: [['SCHILY.xattr.user.dirnote', 'a directory']] },
    { name: 'usr/bin/su', mode: 0o4755, data: 'su', mtime: t + 9 },
    { name: 'usr/bin/wall', mode: 0o2755, gid: 5, data: 'wall', mtime: t + 10 },
    { name: 'usr/bin/ping', mode: 0o755, data: 'ping', mtime: t + 11, pax: [['SCHILY.xattr.security.capability', capability], ['SCHILY.xattr.user.comment', 'hello']] },
    { name: 'usr/lib/', type: '5', mode: 0o755, mtime: t + 12 },
    { name: 'usr/lib/libx.so', mode: 0o644, data: 'lib', mtime: t + 13 },
    { name: 'usr/lib/libx.so.1', type: '1', linkname: 'usr/lib/libx.so', mtime: t + 13 },
    { name: 'lib', type: '2', linkname: 'usr/lib', mtime: t + 14 },
    { name: 'tmp/', type: '5', mode: 0o1777, mtime: t + 15 },
    { name: 'dev/', type: '5', mode: 0o755, mtime: t + 16 },
    { name: 'dev/null', type: '3', mode: 0o666, devmajor: 1, devminor: 3, mtime: t + 17 },
    { name: 'dev/sda', type: '4', mode: 0o660, gid: 6, devmajor: 8, devminor: 0, mtime: t + 18 },
    { name: 'dev/big', type: '3', mode: 0o600, devmajor: 4000, devminor: 70000, mtime: t + 18 },
    { name: 'run/', type: '5', mode: 0o755, mtime: t + 19 },
    { name: 'run/initctl', type: '6', mode: 0o600, mtime: t + 20 },
    { name: 'home/', type: '5', mode: 0o755, mtime: t + 21 },
    { name: 'home/u/', type: '5', mode: 0o700, uid: 1000, gid: 1000, mtime: t + 22 },
    { name: 'home/u/notes', mode: 0o600, uid: 1000, gid: 1000, data: 'n', pax: [['mtime', `${t + 23}.123456789`]] },
    { name: 'home/u/big-ids', mode: 0o600, data: 'x', pax: [['uid', '3000000'], ['gid', '3000001']], mtime: t + 24 },
    { name: 'home/u/dotdot..', mode: 0o644, data: 'literal', mtime: t + 25 },
    { name: 'home/u/back\\slash', mode: 0o644, data: 'b', mtime: t + 25 },
    { name: 'home/u/ünïcødé ∕ name', mode: 0o644, data: 'u', mtime: t + 25 },
    { name: `${longDir.split('/')[0]}/`, type: '5', mode: 0o755, mtime: t + 26 },
    { name: `${longDir}/`, type: '5', mode: 0o755, mtime: t + 26, pax: [['path', `${longDir}/`]] },
    { name: 'x', mode: 0o644, data: 'pax long name', mtime: t + 27, pax: [['path', longName]] },
    { name: `${longDir}/${'g'.repeat(120)}`, mode: 0o644, data: 'gnu long name', mtime: t + 28, gnuLongNames: true },
    { name: `${longDir}/link-${'h'.repeat(110)}`, type: '2', linkname: `/${longName}/../${'i'.repeat(120)}`, mtime: t + 29, gnuLongNames: true },
    { name: 'empty', mode: 0o644, data: '', mtime: t + 30 },
    // Modes the umask would cut, and a setgid directory whose new nodes take its group:
    // the extractor must still set what the archive says, as tar does.
    { name: 'shared/', type: '5', mode: 0o775, mtime: t + 31 },
    { name: 'shared/group-writable', mode: 0o664, data: 'g', mtime: t + 31 },
    { name: 'srv/', type: '5', mode: 0o2775, gid: 50, mtime: t + 32 },
    { name: 'srv/plain', mode: 0o644, data: 'p', mtime: t + 32 },
    { name: 'srv/sub/', type: '5', mode: 0o755, mtime: t + 32 },
    { name: 'srv/sub/deeper', mode: 0o644, data: 'd', mtime: t + 32 },
    { name: 'srv/link', type: '2', linkname: 'plain', mtime: t + 32 },
  ];
}

let work: string;
let worker: Bundled;
let archivePath: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsbox-image-extract-'));
  worker = await bundleImageWorker();
  archivePath = join(work, 'fidelity.tar');
  writeFileSync(archivePath, tarArchive(fidelityEntries()));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  worker?.cleanup();
});

function gnuTar(archive: string, dest: string): void {
  mkdirSync(dest);
  execFileSync('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', archive, '-C', dest], { stdio: 'pipe' });
}

describe('extraction fidelity', () => {
  it('matches GNU tar node for node', async () => {
    const gnu = join(work, 'gnu');
    gnuTar(archivePath, gnu);
    const prepared = await prepareImage(archivePath, { root: join(work, 'state'), maxRootfsSize: 1e9, log: silentLogger });
    expect(prepared.source).toBe('extracted');
    const ours = snapshotTree(prepared.treeDir);
    const theirs = snapshotTree(gnu);
    expect(Object.keys(ours).length).toBeGreaterThan(30);
    expect(ours).toEqual(theirs);
    // Spot checks, so that equality cannot come from both being wrong the same way.
    expect(ours['usr/bin/su']!.mode).toBe('4755');
    expect(ours['usr/bin/wall']).toMatchObject({ mode: '2755', gid: 5 });
    expect(ours['tmp']!.mode).toBe('1777');
    expect(ours['usr/bin/ping']!.xattrs['security.capability']).toBe(capability.toString('hex'));
    expect(ours['bin/sh']!.link).toBe('/bin/busybox');
    expect(ours['usr/lib/libx.so']!.nlink).toBe(2);
    expect(ours['dev/null']!.type).toBe('char');
    expect(ours['home/u/notes']!.mtimeNs).toBe('1650000023123456789');
    expect(ours['home/u/big-ids']).toMatchObject({ uid: 3000000, gid: 3000001 });
    expect(ours[longName]!.sha256).toBeDefined();
    expect(ours['.']!.mtimeNs).toBe('1650000000000000000');
  });

  it('gives the same tree without openat2 (userspace fallback)', async () => {
    const inProcess = await prepareImage(archivePath, { root: join(work, 'state-a'), maxRootfsSize: 1e9, log: silentLogger });
    const child = await runImageWorker(worker.script, [archivePath, join(work, 'state-b')], { noOpenat2: true });
    expect(child.result.error).toBeUndefined();
    expect(child.result.digest).toBe(inProcess.digest);
    expect(snapshotTree(child.result.treeDir!)).toEqual(snapshotTree(inProcess.treeDir));
  });

  it('reads gzip by its magic bytes, whatever the name, and "-" from stdin', async () => {
    const plain = await prepareImage(archivePath, { root: join(work, 'state-c'), maxRootfsSize: 1e9, log: silentLogger });
    const gzPath = join(work, 'looks-plain.tar');
    execFileSync('sh', ['-c', `gzip -c '${archivePath}' > '${gzPath}'`]);
    const gz = await prepareImage(gzPath, { root: join(work, 'state-c'), maxRootfsSize: 1e9, log: silentLogger });
    expect(gz.digest).not.toBe(plain.digest); // the digest is of the bytes as read
    expect(snapshotTree(gz.treeDir)).toEqual(snapshotTree(plain.treeDir));

    const stdinData = tarArchive(fidelityEntries(), { gzip: true });
    const fromStdin = await prepareImage('-', { root: join(work, 'state-d'), maxRootfsSize: 1e9, log: silentLogger, stdin: Readable.from([stdinData]) });
    expect(fromStdin.source).toBe('extracted');
    expect(snapshotTree(fromStdin.treeDir)).toEqual(snapshotTree(plain.treeDir));
    expect(readdirSync(join(work, 'state-d', 'rootfs')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('uses a directory as it is', async () => {
    const dir = join(work, 'plain-dir');
    mkdirSync(dir);
    const prepared = await prepareImage(dir, { root: join(work, 'state-e'), maxRootfsSize: 1e9, log: silentLogger });
    expect(prepared).toEqual({ treeDir: dir, digest: null, source: 'directory' });
  });
});
