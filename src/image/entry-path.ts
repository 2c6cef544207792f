/**
 * How an archive member name becomes a path inside the tree. Policy:
 * - leading "/" and repeated or trailing slashes are dropped, "." components removed
 *   (GNU tar does the same: "/etc//passwd" extracts as "etc/passwd");
 * - a ".." component rejects the whole archive: no legitimate rootfs needs it, and a
 *   tree extracted without some entries would be silently broken;
 * - a NUL byte rejects the archive (it would truncate the name in the kernel);
 * - every other byte is kept literally: backslashes, look-alike unicode, spaces are just
 *   characters in a name.
 * The result never climbs out of the tree on its own; symlinks met while resolving it are
 * the resolver's job (openat2 RESOLVE_IN_ROOT).
 */

/** A normalised member name: its components; [] is the tree's root itself. */
export type EntryPath = readonly string[];

export class UnsafeNameError extends Error {}

/** Bytes the kernel accepts in one component (NAME_MAX) and in a path (PATH_MAX, with its NUL). */
const NAME_MAX = 255;
const PATH_MAX = 4096;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit: strings this short need no byte count. */
const MAX_BYTES_PER_UNIT = 3;

export function normalizeEntryName(name: string): EntryPath {
  if (name.includes('\0')) throw new UnsafeNameError('name contains a NUL byte');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafeNameError('name contains a ".." component');
    if (part.length * MAX_BYTES_PER_UNIT > NAME_MAX && Buffer.byteLength(part) > NAME_MAX) {
      throw new UnsafeNameError(`a component is longer than ${NAME_MAX} bytes`);
    }
    parts.push(part);
  }
  // The kernel would refuse it anyway (ENAMETOOLONG); say so in words.
  if (name.length * MAX_BYTES_PER_UNIT >= PATH_MAX && Buffer.byteLength(parts.join('/')) >= PATH_MAX) {
    throw new UnsafeNameError(`name is longer than PATH_MAX (${PATH_MAX} bytes)`);
  }
  return parts;
}

/** "a/b/c" for display and as a map key. */
export function joinEntryPath(path: EntryPath): string {
  return path.length === 0 ? '.' : path.join('/');
}
