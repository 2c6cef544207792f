/**
 * Reading a bundle: config.json, the root directory, and the checks that need the disk
 * (config-adapter.ts decides the rest). Everything here runs before anything is created.
 */
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { parseConfig, rootPath, type OciConfig } from './config-adapter.js';

export interface Bundle {
  dir: string;
  config: OciConfig;
  root: string;
}

export function readBundle(dirArg: string): Bundle {
  const dir = resolve(dirArg);
  let text: string;
  try {
    text = readFileSync(join(dir, 'config.json'), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `no config.json in the bundle ${dir}` : `cannot read ${join(dir, 'config.json')}: ${code}`, { step: 'read config.json', hint: 'A bundle is a directory with config.json (tsbox-runtime spec writes one) and the root filesystem.' });
  }
  const config = parseConfig(text);
  const root = rootPath(config, dir);
  if (!isDir(root)) throw new UsageError(`root.path ${root} is not a directory`, { step: 'read config.json' });
  for (const m of config.mounts ?? []) checkDestination(root, m.destination);
  return { dir, config, root };
}

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

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
