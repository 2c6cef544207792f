/**
 * `tsbox cp` decisions, docker's rules (docker container cp), pure:
 *
 *   which side is the container: NAME:PATH (a path with a ':' on the host is written
 *   ./a:b or absolute); exactly one side is; "-" is a tar stream (stdin as the source,
 *   extracted into an existing directory; stdout as the destination);
 *
 *   SRC a file:  DEST missing -> created as that file (DEST ending in '/' must exist);
 *                DEST a directory -> copied into it under SRC's name;
 *                DEST a file -> overwritten.
 *   SRC a dir:   DEST missing -> created, SRC's contents copied into it;
 *                DEST a file -> refused;
 *                DEST a directory -> SRC copied into it, or with SRC ending in "/." only
 *                its contents.
 *   DEST's parent directory must exist.
 *
 * Container paths are relative to the container's root ("/" optional) and cleaned
 * lexically, so ".." never climbs above it; symlinks met later are resolved inside the
 * root by the executor (cp/container-side.ts).
 */
import { posix } from 'node:path';
import { UsageError } from '../../errors.js';

export type CpEndpoint = { side: 'host'; path: string } | { side: 'container'; ref: string; path: string } | { side: 'stream' };

/** docker's splitCpArg: "-" is a stream; an absolute or ./-relative path is local; NAME:PATH is a container's. */
export function parseCpEndpoint(arg: string): CpEndpoint {
  if (arg === '-') return { side: 'stream' };
  if (arg.startsWith('/') || arg.startsWith('./') || arg.startsWith('../')) return { side: 'host', path: arg };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { side: 'host', path: arg };
  return { side: 'container', ref: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

export interface CpJob {
  direction: 'to-container' | 'from-container';
  ref: string;
  /** The source as given (host path, or container path relative to its root); null: a tar stream on stdin. */
  src: string | null;
  /** The destination as given; null: a tar stream on stdout. */
  dest: string | null;
}

export function planCpJob(srcArg: string, destArg: string): CpJob {
  const src = parseCpEndpoint(srcArg);
  const dest = parseCpEndpoint(destArg);
  const hint = 'Use tsbox cp HOST_PATH NAME:PATH or tsbox cp NAME:PATH HOST_PATH.';
  if (src.side === 'container' && dest.side === 'container') throw new UsageError('copying between containers is not supported', { hint });
  if (src.side === 'stream' && dest.side === 'stream') throw new UsageError('source and destination cannot both be "-"', { hint });
  if (src.side === 'stream') {
    if (dest.side !== 'container') throw new UsageError('a tar stream from stdin ("-") goes into a container', { hint: 'Use tsbox cp - NAME:DIR.' });
    if (dest.path === '') throw new UsageError(`'${destArg}': the container path is empty`, { hint: 'Use NAME:/path.' });
    return { direction: 'to-container', ref: dest.ref, src: null, dest: dest.path };
  }
  if (src.side === 'container') {
    if (src.path === '') throw new UsageError(`'${srcArg}': the container path is empty`, { hint: 'Use NAME:/path.' });
    return { direction: 'from-container', ref: src.ref, src: src.path, dest: dest.side === 'stream' ? null : (dest as { path: string }).path };
  }
  if (dest.side !== 'container') throw new UsageError('one side must be a container (NAME:PATH)', { hint });
  if (dest.path === '') throw new UsageError(`'${destArg}': the container path is empty`, { hint: 'Use NAME:/path.' });
  return { direction: 'to-container', ref: dest.ref, src: src.path, dest: dest.path };
}

/** A path as given, split into what the rules need. */
export interface PathParts {
  /** The cleaned path (absolute for container paths). */
  clean: string;
  /** Ends with "/." : copy a directory's contents, not the directory. */
  contentsOnly: boolean;
  /** Ends with "/": must be a directory. */
  mustBeDir: boolean;
}

export function containerPathParts(path: string): PathParts {
  return { clean: clean(`/${path}`), contentsOnly: /(^|\/)\.$/.test(path), mustBeDir: path.endsWith('/') };
}

export function hostPathParts(path: string): PathParts {
  return { clean: clean(path), contentsOnly: /(^|\/)\.$/.test(path), mustBeDir: path.endsWith('/') };
}

/** Lexically cleaned, without a trailing slash (the root stays "/"). */
function clean(path: string): string {
  const p = posix.normalize(path);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

export type NodeKind = 'dir' | 'file' | 'symlink' | 'other';

/**
 * Where the source goes, once both ends were looked at:
 *   in-parent   create (or replace) DEST's last component in DEST's parent directory
 *   into-dest   create (or replace) `name` inside DEST, an existing directory
 *   merge       copy the source directory's entries into DEST, an existing directory
 */
export type CpTarget = { at: 'in-parent'; name: string } | { at: 'into-dest'; name: string } | { at: 'merge' };

export interface DestFacts {
  /** What DEST is, following a final symlink (inside the container's root); null: missing. */
  kind: 'dir' | 'non-dir' | null;
}

export function decideTarget(src: { kind: NodeKind; parts: PathParts }, dest: { parts: PathParts; facts: DestFacts }, srcName: string): CpTarget {
  const destName = posix.basename(dest.parts.clean);
  if (src.kind !== 'dir') {
    if (src.parts.contentsOnly || src.parts.mustBeDir) throw new UsageError(`${src.parts.clean} is not a directory`);
    if (dest.facts.kind === null) {
      if (dest.parts.mustBeDir) throw new UsageError(`the destination directory ${dest.parts.clean} does not exist`, { hint: 'Create it first, or drop the trailing /.' });
      return { at: 'in-parent', name: destName };
    }
    if (dest.facts.kind === 'dir') return { at: 'into-dest', name: srcName };
    return { at: 'in-parent', name: destName };
  }
  if (dest.facts.kind === null) return dest.parts.clean === '/' ? { at: 'merge' } : { at: 'in-parent', name: destName };
  if (dest.facts.kind === 'non-dir') throw new UsageError(`cannot copy a directory to a file: ${dest.parts.clean}`, { hint: 'Give a directory as the destination.' });
  return src.parts.contentsOnly || srcName === '' ? { at: 'merge' } : { at: 'into-dest', name: srcName };
}

/**
 * A file copied out of a container keeps its permission bits but not set-user-id or
 * set-group-id: the copy is owned by whoever runs tsbox (root), and a container must not
 * be able to plant a set-uid root program on the host.
 */
export function hostMode(mode: number): number {
  return mode & 0o1777;
}
