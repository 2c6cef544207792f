/**
 * Rootfs archives with traps: the suite's busybox tarball with some top-level paths
 * replaced by symlinks (absolute, or climbing with ".."), as an attacker's image would.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** `links` maps an archive path ("proc", "dev/shm") to the symlink's target. */
export async function rootfsWithSymlinks(baseTar: string, outTar: string, links: Record<string, string>): Promise<void> {
  const replaced = Object.keys(links);
  const covered = (name: string) => {
    const n = name.replace(/^\.\//, '').replace(/\/$/, '');
    return replaced.some((r) => n === r || n.startsWith(`${r}/`));
  };
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (header, stream, next) => {
    if (covered(header.name)) {
      stream.resume();
      stream.on('end', next);
      return;
    }
    stream.pipe(pack.entry(header, next));
  });
  extract.on('finish', () => {
    for (const [name, target] of Object.entries(links)) {
      pack.entry({ name, type: 'symlink', linkname: target, mode: 0o777 });
    }
    pack.finalize();
  });
  await Promise.all([pipeline(createReadStream(baseTar), extract), pipeline(pack, createWriteStream(outTar))]);
}
