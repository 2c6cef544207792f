/** Shared by the oci-spec-*.test.ts files: the fixtures and a fake bundle. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BundleFs } from '../../src/oci/spec/index.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/oci');

/** A fixture's parsed JSON (a fresh copy each call, so tests may change it). */
export function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(`${FIXTURES}/${name}.json`, 'utf8'));
}

/**
 * A bundle that exists only in memory: `files` maps paths to text (config.json), `kinds`
 * says what other paths are; anything else is missing.
 */
export function fakeFs(files: Record<string, string>, kinds: Record<string, 'dir' | 'file' | 'other'> = {}): BundleFs {
  return {
    readText(path) {
      if (path in files) return files[path]!;
      if (kinds[path] === 'dir') throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR' });
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    },
    kind(path) {
      if (path in files) return 'file';
      return kinds[path] ?? 'missing';
    },
  };
}

/** Everything exists: directories, except what looks like a file podman binds (etc files, .containerenv). */
export const everythingExists = {
  kind: (path: string) => (/(hosts|hostname|resolv\.conf|\.containerenv)$/.test(path) ? 'file' : 'dir') as 'dir' | 'file',
};
