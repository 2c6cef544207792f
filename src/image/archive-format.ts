/**
 * Tell an archive's format from its first bytes, never from its file name: `tsbox run -`
 * has no name, and a ".tar" that is really gzip must still work.
 */
export type ArchiveFormat = 'tar' | 'gzip';

/** Bytes needed to decide: a whole tar header block, where the ustar magic lives. */
export const SNIFF_BYTES = 512;

const other: Array<{ magic: number[]; name: string }> = [
  { magic: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz' },
  { magic: [0x42, 0x5a, 0x68], name: 'bzip2' },
  { magic: [0x50, 0x4b, 0x03, 0x04], name: 'zip' },
];

export type SniffResult = { format: ArchiveFormat } | { unsupported: string };

/** Decide from the archive's head (up to SNIFF_BYTES, fewer only if the archive is that short). */
export function sniffArchive(head: Uint8Array): SniffResult {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { format: 'gzip' };
  for (const { magic, name } of other) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) {
      return { unsupported: `${name}-compressed archives are not supported (only plain tar, gzip, zstd and xz)` };
    }
  }
  if (head.length === 0) return { unsupported: 'the archive is empty' };
  if (head.length < SNIFF_BYTES) return { unsupported: `the archive is too short to be a tar archive (${head.length} bytes)` };
  // "ustar\0" (POSIX) or "ustar " (GNU) at offset 257. Pre-POSIX v7 headers (no magic) are
  // not accepted, as the tar parser does not accept them either.
  const magic = Buffer.from(head.subarray(257, 262)).toString('latin1');
  if (magic === 'ustar') return { format: 'tar' };
  return { unsupported: 'not a tar or gzip archive (unrecognised first bytes)' };
}
