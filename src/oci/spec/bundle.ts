/**
 * A bundle on disk: its config.json read, parsed and translated. The file access is
 * behind BundleFs so that tests give a fake; nodeBundleFs is the real one (plain node:fs,
 * no FFI).
 */
import { readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { CONFIG_FILE, OciSpecError } from './errors.js';
import type { BundleProbe } from './paths.js';
import { parseOciConfigText, type OciConfig } from './schema.js';
import { translateOciConfig, type OciContainerPlan } from './translate.js';

export interface BundleFs extends BundleProbe {
  /** The file's text; throws an error with .code (ENOENT, EACCES, EISDIR) otherwise. */
  readText(path: string): string;
}

/** /proc/self/ns's file name of each namespace type. */
const NS_FILES: Readonly<Record<string, string>> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', user: 'user', time: 'time' };

export const nodeBundleFs: BundleFs = {
  readText: (path) => readFileSync(path, 'utf8'),
  isHostNamespace(path, type) {
    const file = NS_FILES[type];
    if (file === undefined) return false;
    try {
      // One namespace, one inode on nsfs: the same device and inode is the same namespace.
      const given = statSync(path);
      const own = statSync(`/proc/self/ns/${file}`);
      return given.dev === own.dev && given.ino === own.ino;
    } catch {
      return false;
    }
  },
  kind(path) {
    try {
      const st = statSync(path);
      return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    } catch {
      return 'missing';
    }
  },
};

export interface LoadedBundle {
  /** Absolute, normalised bundle directory. */
  bundle: string;
  config: OciConfig;
  plan: OciContainerPlan;
}

/**
 * Read BUNDLE/config.json and translate it. `bundle` must already be absolute (the CLI
 * resolves --bundle against its cwd; default: the cwd, as runc).
 */
export function loadBundle(bundle: string, opts: { fs?: BundleFs; systemdCgroup?: boolean } = {}): LoadedBundle {
  const fs = opts.fs ?? nodeBundleFs;
  if (!bundle.startsWith('/')) throw new Error(`internal: the bundle path must be absolute, not '${bundle}'`);
  const dir = posix.normalize(bundle).replace(/(.)\/+$/, '$1');
  const kind = fs.kind(dir);
  if (kind !== 'dir') throw new OciSpecError('bundle', '', `${dir} ${kind === 'missing' ? 'does not exist' : 'is not a directory'}`, 'Give the bundle directory (the one holding config.json) with --bundle.');
  const file = posix.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readText(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OciSpecError(CONFIG_FILE, '', code === 'ENOENT' ? `there is no config.json in the bundle ${dir}` : `cannot read ${file}: ${code ?? String(err)}`);
  }
  const config = parseOciConfigText(text);
  const plan = translateOciConfig(config, { bundle: dir, probe: fs, systemdCgroup: opts.systemdCgroup ?? false });
  return { bundle: dir, config, plan };
}
