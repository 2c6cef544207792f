/**
 * Host paths typed on the command line are relative to the caller's working directory.
 * Most are resolved where they are checked (spec/run-spec.ts); -v needs a rule first,
 * because its source may also be a volume name: as docker does since 23.0, a source that
 * starts with "." (".", "./dir", "../dir") is a host path relative to the working
 * directory; anything else keeps its meaning (absolute path, or a name tsbox refuses).
 */
import { resolve } from 'node:path';

export function resolveVolumeSource(spec: string, cwd: string = process.cwd()): string {
  if (!spec.startsWith('.')) return spec;
  const colon = spec.indexOf(':');
  if (colon <= 0) return spec; // no target: parseVolume says what is missing
  return `${resolve(cwd, spec.slice(0, colon))}${spec.slice(colon)}`;
}
