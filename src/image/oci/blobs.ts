/**
 * Where an image's pieces are read from: members of a tar file (docker-archive,
 * oci-archive) or files of a directory (OCI layout, containers-image dir:). Names come
 * from documents, so they are normalised and refused when they climb out ("..") or, in
 * a directory, when the file is not a regular file (a symlink planted to read host files).
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync, constants } from 'node:fs';
import { join } from 'node:path';
import { normalizeEntryName } from '../entry-path.js';
import { indexTar, readMember, readMemberStream, resolveMember, type TarMember } from './tar-index.js';

export interface Blob {
  size: number;
  /**
   * Where its bytes lie in a file, for the fast reader (archive-hash.ts); absent for a blob
   * that streams in as it is read (a pulled layer: registry/stream-blob.ts).
   */
  file?: { path: string; offset: number };
  open(): AsyncIterable<Buffer>;
  read(max: number): Buffer;
}

export interface Blobs {
  /** The piece at `name` (relative), or null when there is none. */
  get(name: string): Blob | null;
  has(name: string): boolean;
}

function safeName(name: string): string | null {
  try {
    const parts = normalizeEntryName(name);
    return parts.length === 0 ? null : parts.join('/');
  } catch {
    return null;
  }
}

export class TarBlobs implements Blobs {
  readonly members: Map<string, TarMember>;
  constructor(private readonly path: string, members?: Map<string, TarMember>) {
    this.members = members ?? indexTar(path);
  }
  has(name: string): boolean {
    return this.get(name) !== null;
  }
  get(name: string): Blob | null {
    const n = safeName(name);
    const m = n === null ? null : resolveMember(this.members, n);
    if (m === null) return null;
    const path = this.path;
    return { size: m.size, file: { path, offset: m.offset }, open: () => readMemberStream(path, m), read: (max) => readMember(path, m, max) };
  }
}

export class DirBlobs implements Blobs {
  constructor(private readonly dir: string) {}
  has(name: string): boolean {
    return this.get(name) !== null;
  }
  get(name: string): Blob | null {
    const n = safeName(name);
    if (n === null) return null;
    const path = join(this.dir, n);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return null;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return null;
      const size = st.size;
      return {
        size,
        file: { path, offset: 0 },
        open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
        read: (max) => {
          if (size > max) throw new Error(`${n} is larger than ${max} bytes`);
          const f = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
          try {
            const buf = Buffer.alloc(size);
            const got = readSync(f, buf, 0, size, 0);
            return buf.subarray(0, got);
          } finally {
            closeSync(f);
          }
        },
      };
    } finally {
      closeSync(fd);
    }
  }
}
