/**
 * `tsbox cp NAME:SRC -`: the source as a tar stream on stdout, as docker does: entries
 * named from SRC's last component ("etc/hosts" for NAME:/etc), or, for SRC ending in
 * "/.", from its contents. The tree is walked the way copy.ts walks it (fd by fd, every
 * name opened with O_NOFOLLOW, symlinks stored as symlinks), with file contents streamed.
 * Devices, fifos and sockets are skipped, with a warning.
 */
import { closeSync, createWriteStream, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { close, O, openat, readlinkat } from '../../sys/fs.js';

const CHUNK = 1 << 16;

export async function writeTarStream(src: number, rootName: string, warn: (m: string) => void, outFd = 1): Promise<void> {
  const pack = tar.pack();
  const out = createWriteStream('', { fd: outFd, autoClose: false });
  const writing = pipeline(pack, out);
  writing.catch(() => {}); // awaited below
  try {
    await addNode(pack, src, rootName, warn);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    throw err;
  }
  await writing;
}

async function addNode(pack: tar.Pack, fd: number, name: string, warn: (m: string) => void): Promise<void> {
  const st = fstatSync(fd);
  const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (st.isDirectory()) {
    if (name !== '') await entry(pack, { ...base, name: `${name}/`, type: 'directory' });
    for (const child of readdirSync(`/proc/self/fd/${fd}`)) {
      const childFd = openat(fd, child, O.PATH | O.NOFOLLOW);
      try {
        await addNode(pack, childFd, name === '' ? child : `${name}/${child}`, warn);
      } finally {
        close(childFd);
      }
    }
  } else if (st.isSymbolicLink()) {
    await entry(pack, { ...base, name, type: 'symlink', linkname: readlinkat(fd, '') });
  } else if (st.isFile()) {
    const input = openSync(`/proc/self/fd/${fd}`, 'r');
    try {
      const sink = pack.entry({ ...base, name, type: 'file', size: st.size });
      const done = new Promise<void>((resolve, reject) => sink.once('finish', resolve).once('error', reject));
      const buf = Buffer.alloc(CHUNK);
      // Exactly st.size bytes: tar needs the size up front (a file that grew is cut, one that shrank is padded).
      for (let pos = 0; pos < st.size; ) {
        const n = readSync(input, buf, 0, Math.min(CHUNK, st.size - pos), pos);
        const chunk = n === 0 ? Buffer.alloc(Math.min(CHUNK, st.size - pos)) : Buffer.from(buf.subarray(0, n));
        pos += chunk.length;
        if (!sink.write(chunk)) await once(sink, 'drain');
      }
      // streamx's Writable: end() with no data (its typing asks for an argument).
      (sink as unknown as { end(): void }).end();
      await done;
    } finally {
      closeSync(input);
    }
  } else {
    warn(`skipped ${name}: devices, fifos and sockets are not copied`);
  }
}

function entry(pack: tar.Pack, header: Parameters<tar.Pack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}
