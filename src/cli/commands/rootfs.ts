/** tsbox rootfs from-host OUT.tar: a tiny rootfs from the host's busybox, for demos and tests. */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { buildRootfsFromHost } from '../../image/from-host.js';
import { writeLine } from '../render-error.js';
import { addCacheCommands } from './rootfs-cache.js';

export function rootfsCommand(): Command {
  const rootfs = new Command('rootfs').description('build and manage root filesystems');
  rootfs
    .command('from-host')
    .description('write a small rootfs tarball built from the host\'s busybox (or /bin/sh and its libraries)')
    .argument('<out>', 'the tarball to write (.tar or .tar.gz)')
    .action(async (out: string) => {
      const path = resolve(out);
      const info = await buildRootfsFromHost(path, { gzip: /\.(tgz|gz)$/.test(path) });
      writeLine(1, `wrote ${path}: ${info.entries} entries, from the host's ${info.kind === 'busybox' ? 'busybox' : '/bin/sh and its libraries'}`);
    });
  addCacheCommands(rootfs);
  return rootfs;
}
