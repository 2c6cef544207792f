/**
 * The bundle check that needs the rootfs on disk, beyond src/oci/spec's translation: a mount
 * destination must not be reached through a symlink that climbs out of the root. Runs
 * before anything is created.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { UsageError } from '../../errors.js';

/**
 * A mount destination reached through a symlink of the image whose relative target climbs
 * out of the root (`mnt -> ../../../tmp`): refused before anything is made. The init
 * resolves every target inside the root anyway (fs/in-root: an absolute link is taken
 * relative to the root, as runc does), so such a link could only mean an attack or a broken
 * image; absolute links (/var/run -> /run) are ordinary and stay allowed.
 */
export function checkDestination(root: string, destination: string): void {
  const parts = destination.split('/').filter((p) => p !== '' && p !== '.');
  const inside: string[] = [];
  for (const part of parts) {
    if (part === '..') throw new UsageError(`mount destination ${destination} contains '..'`, { step: 'read config.json' });
    const here = join(root, ...inside, part);
    let link: string | null = null;
    try {
      if (lstatSync(here).isSymbolicLink()) link = readlinkSync(here);
    } catch {
      return; // the rest does not exist yet: the init makes it, inside the root
    }
    if (link !== null && !isAbsolute(link)) {
      const target = normalize(join(...(inside.length ? inside : ['.']), link));
      if (target === '..' || target.startsWith('../')) {
        throw new UsageError(`mount destination ${destination} escapes the root through the symlink /${[...inside, part].join('/')} -> ${link}`, { step: 'read config.json', hint: 'Mount destinations must stay inside the container\'s root.' });
      }
    }
    inside.push(part);
  }
}
