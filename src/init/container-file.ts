/**
 * Reading a small file of the container's (/etc/passwd, /etc/group) from tsbox's init or
 * exec-init, which still hold every privilege of the host's root while they read it.
 *
 * The image and, for `tsbox exec`, the running container's processes decide what is at
 * that path. Only a regular file of bounded size inside the root is read:
 *  - a FIFO would block the read forever (an exec that never returns), a device would be
 *    read with host root's rights: O_NONBLOCK on open, then fstat must say S_IFREG;
 *  - a link to /proc/self/fd/0 would make us read our own stdin (the exec's input), and any
 *    /proc magic link something outside the container: openat2 RESOLVE_NO_MAGICLINKS, and
 *    RESOLVE_IN_ROOT keeps ordinary symlinks and ".." inside the root;
 *  - a huge file would cost memory and time: at most CONTAINER_FILE_MAX_BYTES.
 * A missing file is null (the user is then resolved as docker does without it); anything
 * else that is not readable this way is an error that names the file.
 *
 * Pure apart from the injected ContainerFileSys, so the decisions are unit-tested.
 */
import { TsboxError } from '../errors.js';

/** Far above any real passwd or group file (a few KiB); bounds what a hostile one costs. */
export const CONTAINER_FILE_MAX_BYTES = 4 * 1024 * 1024;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

export interface ContainerFileSys {
  /** Open `path` of the root "/" for reading, as described above; throws an error with `code`. */
  openRead(path: string): number;
  /** Mode (type bits included) and size of an open fd. */
  fstat(fd: number): { mode: number; size: number };
  /** read(2): bytes read, 0 at the end. */
  read(fd: number, buf: Buffer, offset: number, length: number): number;
  close(fd: number): void;
}

export function readContainerFile(path: string, sys: ContainerFileSys, maxBytes = CONTAINER_FILE_MAX_BYTES): string | null {
  let fd: number;
  try {
    fd = sys.openRead(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    const why = code === 'ELOOP' || code === 'EXDEV' ? 'it is a link that leaves the container (or a loop of links)' : (err as Error).message;
    throw new TsboxError(`cannot read the container's ${path}: ${why}`, { hint: `Make ${path} a regular file in the image.`, cause: err });
  }
  try {
    const st = sys.fstat(fd);
    if ((st.mode & S_IFMT) !== S_IFREG) {
      throw new TsboxError(`the container's ${path} is not a regular file (${kindName(st.mode)})`, { hint: `tsbox reads only a regular file there: make ${path} one in the image.` });
    }
    if (st.size > maxBytes) throw tooLarge(path, maxBytes);
    // Read to the end, not to st.size: the file may change under us; never past the cap.
    let buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buf.length) buf = Buffer.concat([buf, Buffer.alloc(Math.min(buf.length, maxBytes + 1 - buf.length))]);
      const n = sys.read(fd, buf, length, buf.length - length);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw tooLarge(path, maxBytes);
    }
    return buf.toString('utf8', 0, length);
  } finally {
    sys.close(fd);
  }
}

function tooLarge(path: string, max: number): TsboxError {
  return new TsboxError(`the container's ${path} is larger than ${max / (1024 * 1024)} MiB`, { hint: `A real ${path} is a few KiB: check the image.` });
}

function kindName(mode: number): string {
  const names: Record<number, string> = { 0o010000: 'a FIFO', 0o020000: 'a character device', 0o040000: 'a directory', 0o060000: 'a block device', 0o140000: 'a socket', 0o120000: 'a symlink' };
  return names[mode & S_IFMT] ?? `mode ${(mode & S_IFMT).toString(8)}`;
}
