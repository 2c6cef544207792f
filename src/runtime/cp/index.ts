/**
 * `tsbox cp`: copy between the host and a running container's filesystem.
 *
 *   1. the container: it must run (tsbox throws a container's writable layer away when it
 *      exits, so a stopped one has no files left to copy), and its root is opened once,
 *      through its PID 1, which is checked to still be that container's afterwards;
 *   2. the source: opened as an fd (the last component not followed unless -L);
 *   3. the destination: what it is decides, by docker's rules (plan.ts), where the
 *      source goes;
 *   4. the copy walks fds only (copy.ts); with "-", the source goes to stdout as a tar
 *      stream (tar-out.ts), or a tar stream on stdin is extracted (tar-in.ts).
 */
import { posix } from 'node:path';
import { TsboxError, UsageError } from '../../errors.js';
import { AT, close, O, openat } from '../../sys/fs.js';
import { SysError } from '../../sys/sys-error.js';
import { isRunning, label } from '../control.js';
import type { StateStore } from '../state/store.js';
import { TreeCopier, type CopyCounts } from './copy.js';
import { containerPathParts, decideTarget, hostPathParts, type CpJob } from './plan.js';
import { containerSide, destKind, hostSide, kindOf, type Side } from './sides.js';
import { extractTarStream } from './tar-in.js';
import { writeTarStream } from './tar-out.js';
import type { Readable } from 'node:stream';

export interface CpOptions {
  archive: boolean;
  followLink: boolean;
  warn(message: string): void;
}

/** The running container's root, as a Side, and the name users know it by. */
function openContainer(store: StateStore, ref: string): { side: Side; rootFd: number; name: string } {
  const record = store.resolve(ref);
  const notRunning = () => new UsageError(`container ${label(record)} is not running: tsbox discards a container's files when it exits`, { hint: 'Copy files while it runs, or keep them on a volume (-v).' });
  if (!isRunning(store, record)) throw notRunning();
  let rootFd: number;
  try {
    rootFd = openat(AT.FDCWD, `/proc/${record.pid}/root`, O.PATH | O.DIRECTORY);
  } catch {
    throw notRunning();
  }
  // The pid could have ended (and been reused) between the record and the open: the same
  // check as exec's, now that we hold the root.
  const now = store.read(record.shortId);
  if (now === null || now.pid !== record.pid || !isRunning(store, now)) {
    close(rootFd);
    throw notRunning();
  }
  return { side: containerSide(rootFd), rootFd, name: label(record) };
}

/** A tar stream (stdin) extracted into NAME:DEST, which must be an existing directory, as docker requires. */
export async function streamIntoContainer(store: StateStore, ref: string, destPath: string, input: Readable, opts: CpOptions): Promise<number> {
  const { side, rootFd, name } = openContainer(store, ref);
  try {
    const parts = containerPathParts(destPath);
    const kind = open(() => destKind(side, parts.clean), `${name}:${parts.clean}`);
    if (kind !== 'dir') throw new UsageError(`${name}:${parts.clean} ${kind === null ? 'does not exist' : 'is not a directory'}: a tar stream is extracted into an existing directory`, { hint: 'Create the directory first.' });
    return await extractTarStream(input, rootFd, parts.clean.split('/').filter((p) => p !== ''), { archive: opts.archive, warn: opts.warn });
  } catch (err) {
    if (err instanceof SysError) throw new TsboxError(`copy failed: ${err.message}`, { step: 'cp', cause: err });
    throw err;
  } finally {
    side.close();
  }
}

/** NAME:SRC as a tar stream on fd 1. */
export async function streamFromContainer(store: StateStore, ref: string, srcPath: string, opts: CpOptions): Promise<void> {
  const { side, name } = openContainer(store, ref);
  try {
    const parts = containerPathParts(srcPath);
    const src = open(() => side.openNode(parts.clean, opts.followLink || parts.contentsOnly || parts.mustBeDir), `${name}:${parts.clean}`);
    try {
      await writeTarStream(src, parts.contentsOnly ? '' : posix.basename(parts.clean), opts.warn);
    } finally {
      close(src);
    }
  } finally {
    side.close();
  }
}

export function copyFiles(store: StateStore, job: CpJob & { src: string; dest: string }, opts: CpOptions): CopyCounts {
  const { side: inContainer, name } = openContainer(store, job.ref);
  try {
    const toContainer = job.direction === 'to-container';
    const srcSide: Side = toContainer ? hostSide : inContainer;
    const destSide: Side = toContainer ? inContainer : hostSide;
    const srcParts = toContainer ? hostPathParts(job.src) : containerPathParts(job.src);
    const destParts = toContainer ? containerPathParts(job.dest) : hostPathParts(job.dest);
    const where = (side: Side, path: string) => (side === inContainer ? `${name}:${path}` : path);

    const src = open(() => srcSide.openNode(srcParts.clean, opts.followLink || srcParts.contentsOnly || srcParts.mustBeDir), where(srcSide, srcParts.clean));
    try {
      const srcName = posix.basename(srcParts.clean);
      const facts = { kind: open(() => destKind(destSide, destParts.clean), where(destSide, destParts.clean)) };
      const target = decideTarget({ kind: kindOf(src), parts: srcParts }, { parts: destParts, facts }, srcName);
      const dirPath = target.at === 'in-parent' ? posix.dirname(destParts.clean) : destParts.clean;
      const dir = open(() => destSide.openDir(dirPath), where(destSide, dirPath), 'the destination directory');
      try {
        const copier = new TreeCopier({ archive: opts.archive, toHost: !toContainer, warn: opts.warn });
        const shown = where(srcSide, srcParts.clean);
        if (target.at === 'merge') copier.copyChildren(src, dir, shown);
        else copier.copyNode(src, dir, target.name, shown);
        return copier.counts;
      } finally {
        close(dir);
      }
    } finally {
      close(src);
    }
  } catch (err) {
    if (err instanceof SysError) throw new TsboxError(`copy failed: ${err.message}`, { step: 'cp', cause: err });
    throw err;
  } finally {
    inContainer.close();
  }
}

/** Open something the user named; a missing one is their mistake (125, one line), said in their terms. */
function open<T>(fn: () => T, shown: string, what = ''): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SysError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) {
      throw new UsageError(`${what ? `${what} ` : ''}${shown}: ${err.code === 'ENOENT' ? 'no such file or directory' : 'a component of the path is not a directory'}`, { hint: 'Container paths are resolved inside the container: its symlinks cannot point outside it.' });
    }
    if (err instanceof SysError && err.code === 'ELOOP') throw new UsageError(`${shown}: too many levels of symbolic links`);
    throw err;
  }
}
