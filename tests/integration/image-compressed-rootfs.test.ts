/**
 * Rootfs tarballs compressed as a whole with zstd or xz (refused before): extracted as the
 * same tree as the plain tar; a corrupt or truncated one and a zstd frame asking for a
 * huge window fail with one line; a bomb stops at --max-rootfs-size.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareImage } from '../../src/image/index.js';
import { silentLogger } from '../../src/log.js';
import { tarArchive } from '../helpers/image-tar.js';
import { snapshotTree } from '../helpers/image-tree.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'tsbox-zrootfs-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const tar = () => tarArchive([{ name: 'etc/', type: '5', mode: 0o755 }, { name: 'etc/motd', data: 'hi\n' }, { name: 'tmp/', type: '5', mode: 0o1777 }, { name: 'l', type: '2', linkname: '/etc/motd' }]);
const compress = (program: string, args: string[], data: Buffer) => execFileSync(program, args, { input: data, maxBuffer: 1024 ** 3 });
const opts = (maxRootfsSize = 1e9) => ({ root: join(work, 'state'), maxRootfsSize, log: silentLogger });

async function rejects(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('it did not fail');
}

describe('zstd and xz rootfs archives', () => {
  for (const [name, program, args] of [['zstd', 'zstd', ['-q', '-c', '-19']], ['xz', 'xz', ['-c', '-6']]] as const) {
    it(`${name}: the same tree as the plain tar`, async () => {
      writeFileSync(join(work, 'plain.tar'), tar());
      writeFileSync(join(work, 'c.tar.x'), compress(program, [...args], tar()));
      const plain = await prepareImage(join(work, 'plain.tar'), opts());
      const packed = await prepareImage(join(work, 'c.tar.x'), opts());
      expect(packed.source).toBe('extracted');
      const noRootTime = { ignoreMtime: (rel: string) => rel === '.' };
      expect(snapshotTree(packed.treeDir, noRootTime)).toEqual(snapshotTree(plain.treeDir, noRootTime));
      expect(readFileSync(join(packed.treeDir, 'etc/motd'), 'utf8')).toBe('hi\n');
      expect((await prepareImage(join(work, 'c.tar.x'), opts())).source).toBe('cache');
    });

    it(`${name}: corrupt data fails with one line`, async () => {
      const data = compress(program, [...args], tar());
      data[Math.floor(data.length / 2)] ^= 0xff;
      data[data.length - 5] ^= 0xff;
      writeFileSync(join(work, 'bad'), data);
      const msg = await rejects(prepareImage(join(work, 'bad'), opts()));
      expect(msg).toMatch(/corrupt|truncated/);
      expect(msg).not.toContain('\n');
    });

    it(`${name}: a bomb stops at the limit`, async () => {
      const bomb = tarArchive([{ name: 'big', data: Buffer.alloc(32 * 1024 * 1024) }]);
      writeFileSync(join(work, 'bomb'), compress(program, [...args.filter((a) => a !== '-19')], bomb));
      const msg = await rejects(prepareImage(join(work, 'bomb'), opts(1024 * 1024)));
      expect(msg).toMatch(/more than 1048576 bytes/);
    });
  }

  it('zstd: a frame asking for a 2 GiB window is refused, not allocated', async () => {
    // --long=31 makes zstd write a 2 GiB window into the frame header.
    const data = compress('zstd', ['-q', '-c', '--long=31', '-1'], tar());
    writeFileSync(join(work, 'long'), data);
    const msg = await rejects(prepareImage(join(work, 'long'), opts()));
    expect(msg).toMatch(/zstd data is corrupt or truncated.*(memory|window|Window)/i);
  });
});
