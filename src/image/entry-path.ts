/**
 * How an archive member name becomes a path inside the tree. Policy:
 * - leading "/" and repeated or trailing slashes are dropped, "." components removed
 *   (GNU tar does the same: "/etc//passwd" extracts as "etc/passwd");
 * - a ".." component rejects the whole archive: no legitimate rootfs needs it, and a
 *   tree extracted without some entries would be silently broken;
 * - a NUL byte rejects the archive (it would truncate the name in the kernel);
 * - every other byte is kept literally: backslashes, look-alike unicode, spaces are just
 *   characters in a name, and a name need not be UTF-8.
 *
 * Names are bytes end to end: from the tar header to the syscall, a name travels as a
 * "byte string", a JS string whose char codes are its bytes (0-255, what Buffer's latin1
 * decoding makes). String operations (split on "/", map keys) work on it unchanged, its
 * length is its length in bytes, and sys/fs.ts's bytePath turns it back into the exact
 * bytes for the kernel. Decoding names as UTF-8 would turn every invalid sequence into
 * U+FFFD, and two different names into one file. Only messages decode them (displayPath).
 * The result never climbs out of the tree on its own; symlinks met while resolving it are
 * the resolver's job (openat2 RESOLVE_IN_ROOT).
 */

/** A normalised member name: its components; [] is the tree's root itself. */
export type EntryPath = readonly string[];

export class UnsafeNameError extends Error {}

/** Bytes the kernel accepts in one component (NAME_MAX) and in a path (PATH_MAX, with its NUL). */
const NAME_MAX = 255;
const PATH_MAX = 4096;

/** `name`: a byte string (see above). */
export function normalizeEntryName(name: string): EntryPath {
  if (name.includes('\0')) throw new UnsafeNameError('name contains a NUL byte');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafeNameError('name contains a ".." component');
    if (part.length > NAME_MAX) {
      throw new UnsafeNameError(`a component is longer than ${NAME_MAX} bytes`);
    }
    parts.push(part);
  }
  // The kernel would refuse it anyway (ENAMETOOLONG); say so in words.
  if (name.length >= PATH_MAX && parts.join('/').length >= PATH_MAX) {
    throw new UnsafeNameError(`name is longer than PATH_MAX (${PATH_MAX} bytes)`);
  }
  return parts;
}

/** "a/b/c" for display and as a map key. */
export function joinEntryPath(path: EntryPath): string {
  return path.length === 0 ? '.' : path.join('/');
}

/** A byte string for messages: its bytes decoded as UTF-8 (invalid sequences shown as U+FFFD). */
export function displayPath(bytes: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(bytes) ? Buffer.from(bytes, 'latin1').toString('utf8') : bytes;
}
