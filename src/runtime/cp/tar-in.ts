/**
 * `tsbox cp - NAME:DEST`: a tar stream from stdin, extracted into DEST, an existing
 * directory of a running container (docker's rule for "-" as source).
 *
 * Member names are normalised as image extraction does (image/entry-path.ts: no "..", no
 * NUL); each member's directory is opened inside the container's root (InRoot, fs/in-root:
 * a symlink, the container's or one the archive itself made, resolves inside the root),
 * missing directories are created one component at a time, and the member itself is made
 * with a single *at() call that never follows a symlink (O_EXCL, symlinkat), an existing
 * non-directory being unlinked first. Owned by root unless -a (then the archive's uid/gid);
 * permission bits and modification times from the archive. Hard links, devices and fifos
 * are skipped, with a warning.
 */
import { closeSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import tar, { type Header } from 'tar-stream';
import { UsageError } from '../../errors.js';
import { normalizeEntryName, UnsafeNameError } from '../../image/entry-path.js';
import { InRoot } from '../../fs/in-root/resolver.js';
import { inRootBytesSys } from '../../sys/in-root.js';
import { AT, close, fchmod, fchown, fchownat, futimens, mkdirat, O, openat, symlinkat, unlinkat, utimensatNoFollow } from '../../sys/fs.js';
import { SysError } from '../../sys/sys-error.js';

/** What tar-stream hands us for a member's content (a streamx Readable). */
type EntryStream = AsyncIterable<Buffer> & { resume(): unknown };

export interface TarInOptions {
  archive: boolean;
  warn(message: string): void;
}

export async function extractTarStream(input: Readable, rootFd: number, dest: readonly string[], opts: TarInOptions): Promise<number> {
  const resolver = new InRoot(rootFd, inRootBytesSys);
  const extract = tar.extract();
  let count = 0;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      handle(header, stream as unknown as EntryStream)
        .then(() => next(), (err: unknown) => {
          stream.resume();
          extract.destroy(err as Error);
        });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
    input.on('error', reject);
  });
  input.pipe(extract);

  async function handle(header: Header, stream: EntryStream): Promise<void> {
    let name: readonly string[];
    try {
      name = normalizeEntryName(header.name);
    } catch (err) {
      if (err instanceof UnsafeNameError) throw new UsageError(`tar member '${header.name}': ${err.message}`, { hint: 'Give an archive whose member names stay inside the destination.' });
      throw err;
    }
    if (name.length === 0) return void stream.resume(); // "./": the destination itself
    const parent = ensureDirs(resolver, [...dest, ...name.slice(0, -1)]);
    const last = name[name.length - 1]!;
    try {
      const mtime = { sec: Math.floor((header.mtime?.getTime() ?? Date.now()) / 1000), nsec: 0 };
      const mode = (header.mode ?? 0o644) & 0o7777;
      const owner = (fd: number) => opts.archive && fchown(fd, header.uid ?? 0, header.gid ?? 0);
      switch (header.type) {
        case 'directory': {
          try {
            mkdirat(parent, last, 0o700);
          } catch (err) {
            if (!(err instanceof SysError) || err.code !== 'EEXIST') throw err;
          }
          const fd = openat(parent, last, O.RDONLY | O.DIRECTORY | O.NOFOLLOW);
          try {
            owner(fd);
            fchmod(fd, mode);
          } finally {
            close(fd);
          }
          stream.resume();
          break;
        }
        case 'file':
        case 'contiguous-file': {
          const fd = replace(parent, last, () => openat(parent, last, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW, 0o600));
          try {
            for await (const chunk of stream) for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
            owner(fd);
            fchmod(fd, mode);
            futimens(fd, mtime, mtime);
          } finally {
            closeSync(fd);
          }
          break;
        }
        case 'symlink':
          replace(parent, last, () => symlinkat(header.linkname ?? '', parent, last));
          if (opts.archive) fchownat(parent, last, header.uid ?? 0, header.gid ?? 0, AT.SYMLINK_NOFOLLOW);
          utimensatNoFollow(parent, last, mtime, mtime);
          stream.resume();
          break;
        default:
          opts.warn(`skipped ${header.name}: ${header.type} members are not extracted`);
          stream.resume();
          return;
      }
      count++;
    } finally {
      close(parent);
    }
  }

  await done;
  return count;
}

/** Open (creating what is missing) the directory at `path` inside the root, one component at a time. */
function ensureDirs(resolver: InRoot, path: readonly string[]): number {
  try {
    return resolver.openDir(path);
  } catch (err) {
    if (!(err instanceof SysError) || err.code !== 'ENOENT' || path.length === 0) throw err;
  }
  const parent = ensureDirs(resolver, path.slice(0, -1));
  try {
    mkdirat(parent, path[path.length - 1]!, 0o755);
  } catch (err) {
    if (!(err instanceof SysError) || err.code !== 'EEXIST') throw err;
  } finally {
    close(parent);
  }
  return resolver.openDir(path);
}

/** Make a non-directory; an existing non-directory there is unlinked first, a directory is not. */
function replace<T>(dir: number, name: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (!(err instanceof SysError) || err.code !== 'EEXIST') throw err;
  }
  try {
    unlinkat(dir, name);
  } catch (err) {
    if (err instanceof SysError && err.code === 'EISDIR') throw new UsageError(`cannot overwrite directory ${name} with a non-directory`);
    throw err;
  }
  return make();
}
