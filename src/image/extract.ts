/**
 * Stream a rootfs archive (plain tar or gzip, told by magic bytes) into an empty
 * directory, hashing the bytes as read, in one pass.
 *
 * What is kept, as GNU tar keeps it when run as root with --numeric-owner -p: regular
 * files, directories, symlinks (targets exactly as written, absolute ones too: they are
 * resolved inside the container's root when used), hard links, fifos, character and
 * block devices, numeric owners, modes including setuid/setgid/sticky, mtimes (PAX
 * nanoseconds too) and SCHILY.xattr.* extended attributes, security.capability included.
 *
 * Policy on privileged content: device nodes, setuid/setgid bits and security.* xattrs
 * are kept. Rootfs archives legitimately contain them (/dev/null, /usr/bin/passwd,
 * ping's cap_net_raw), and what makes them harmless is the container: user and mount
 * namespaces, a bounded capability set and nodev/nosuid where they apply, not the
 * extractor. The extractor's job is that no entry creates or changes anything outside
 * the tree (see tree-writer.ts and resolve-in-root.ts) and that a broken or hostile
 * archive fails with one clear line.
 *
 * Everything per entry is synchronous FFI on the main thread: the data of an entry is
 * already in memory when its handler runs, and a handful of direct syscalls is far
 * cheaper than a round trip through the libuv thread pool for each. Reading the input
 * and gunzip run off the main thread (libuv, zlib's thread), with backpressure.
 */
import { createGunzip, type Gunzip } from 'node:zlib';
import tar from 'tar-stream';
import { TsboxError } from '../errors.js';
import { close, O, openat, writeAll, AT } from '../sys/fs.js';
import { SysError } from '../sys/sys-error.js';
import { sniffArchive, SNIFF_BYTES } from './archive-format.js';
import { createArchiveHasher } from './archive-hash.js';
import { entryError, RootfsError } from './errors.js';
import { BadEntryError, planEntry, type EntryPlan, type RawHeader } from './entry-plan.js';
import { parsePaxRecords, PaxFormatError, type PaxRecords } from './pax.js';
import { RefusedEntryError, TreeWriter } from './tree-writer.js';

export interface ExtractOptions {
  /** Limit on the bytes of regular file content (gzip bombs, runaway archives). */
  maxBytes: number;
  /** The archive's size when known (a regular file): big ones are hashed on a worker thread. */
  archiveBytes?: number | null;
}

export interface ExtractResult {
  /** "sha256:<hex>" of the archive bytes as read (compressed, for gzip). */
  digest: string;
  /** Bytes of regular file content written. */
  contentBytes: number;
  entries: number;
  format: 'tar' | 'gzip';
}

/** tar-stream's header plus the data offset it sets (not in its types). */
type StreamHeader = RawHeader & { byteOffset?: number };

export async function extractArchive(input: AsyncIterable<Buffer | string>, treeDir: string, opts: ExtractOptions): Promise<ExtractResult> {
  const rootFd = openat(AT.FDCWD, treeDir, O.RDONLY | O.DIRECTORY | O.NOFOLLOW);
  const writer = new TreeWriter(rootFd);
  try {
    const result = await run(input, writer, opts);
    writer.finish();
    return result;
  } catch (err) {
    writer.abandon();
    throw describeFailure(err, treeDir);
  } finally {
    close(rootFd);
  }
}

async function run(input: AsyncIterable<Buffer | string>, writer: TreeWriter, opts: ExtractOptions): Promise<ExtractResult> {
  const hash = createArchiveHasher(opts.archiveBytes ?? null);
  try {
    return await runWith(hash, input, writer, opts);
  } catch (err) {
    hash.abort();
    throw err;
  }
}

async function runWith(
  hash: ReturnType<typeof createArchiveHasher>,
  input: AsyncIterable<Buffer | string>,
  writer: TreeWriter,
  opts: ExtractOptions,
): Promise<ExtractResult> {
  const extract = tar.extract();
  const pax = capturePax(extract);

  let failure: unknown = null;
  let contentBytes = 0;
  let entries = 0;
  let tarBytes = 0;
  let endOfLastEntry = 0;
  let openFd = -1;
  let gunzip: Gunzip | null = null;

  const fail = (err: unknown): void => {
    failure ??= err;
    if (openFd >= 0) {
      try {
        close(openFd);
      } catch {
        // already failing; the first error is the one to report
      }
      openFd = -1;
    }
    (gunzip as Gunzip | null)?.destroy();
    extract.destroy(err as Error);
  };

  extract.on('entry', (header: StreamHeader, stream, next) => {
    // On failure tar-stream destroys the entry's stream with the same error it reports on
    // the extractor; that one is handled there.
    stream.on('error', () => {});
    let plan: EntryPlan;
    try {
      plan = planEntry(header, pax.take());
      entries++;
      endOfLastEntry = (header.byteOffset ?? 0) + Math.ceil(header.size / 512) * 512;
      if (plan.kind !== 'file') {
        writer.create(plan);
        stream.on('end', () => next());
        stream.resume();
        return;
      }
      if (contentBytes + plan.size > opts.maxBytes) {
        throw new RootfsError(`rootfs archive expands to more than ${opts.maxBytes} bytes (at ${JSON.stringify(plan.name)})`, {
          hint: 'Raise --max-rootfs-size if the image is really that large.',
        });
      }
      contentBytes += plan.size;
      openFd = writer.createFile(plan);
    } catch (err) {
      fail(withEntry(err, header.name));
      return;
    }
    const fd = openFd;
    let written = 0;
    stream.on('data', (data: unknown) => {
      const chunk = data as Buffer;
      if (failure !== null) return;
      try {
        written += chunk.length;
        writeAll(fd, chunk);
      } catch (err) {
        fail(withEntry(err, plan.name));
      }
    });
    stream.on('end', () => {
      if (failure !== null) return;
      openFd = -1;
      try {
        if (written !== plan.size) throw new Error(`expected ${plan.size} bytes of data, got ${written}`);
        writer.finishFile(fd, plan);
      } catch (err) {
        fail(withEntry(err, plan.name));
        return;
      }
      next();
    });
  });

  const finished = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', (err: Error) => reject(failure ?? err));
    extract.on('close', () => (failure !== null ? reject(failure) : undefined));
  });
  finished.catch(() => {}); // observed below; avoid an unhandled rejection while reading

  // streamx's types make end()'s data argument required; it is optional at runtime.
  const endTar = (): void => void (extract as unknown as { end(): void }).end();

  // The sink for raw tar bytes; counts them for the end-of-archive check.
  const toTar = (chunk: Buffer): boolean => {
    tarBytes += chunk.length;
    return extract.write(chunk);
  };

  let head: Buffer[] = [];
  let headBytes = 0;
  let format: 'tar' | 'gzip' | null = null;

  const feed = async (chunk: Buffer): Promise<void> => {
    if (gunzip !== null) {
      if (!gunzip.write(chunk)) await drained(gunzip, finished);
    } else if (!toTar(chunk)) {
      await drained(extract, finished);
    }
  };

  const decide = (): void => {
    const headBuf = Buffer.concat(head);
    const sniffed = sniffArchive(headBuf);
    if ('unsupported' in sniffed) throw new RootfsError(`rootfs archive: ${sniffed.unsupported}`);
    format = sniffed.format;
    if (format === 'gzip') {
      const gz = createGunzip({ chunkSize: 256 * 1024 });
      gz.on('data', (out: Buffer) => {
        if (!toTar(out)) {
          gz.pause();
          extract.once('drain', () => gz.resume());
        }
      });
      gz.on('end', () => endTar());
      gz.on('error', (err) => fail(new RootfsError(`rootfs archive: gzip data is corrupt or truncated (${err.message})`)));
      gunzip = gz;
    }
  };

  for await (const raw of input) {
    if (failure !== null) break;
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    hash.update(chunk);
    if (format === null) {
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes < SNIFF_BYTES) continue;
      decide();
      const all = Buffer.concat(head);
      head = [];
      await feed(all);
    } else {
      await feed(chunk);
    }
  }
  if (failure !== null) throw failure;
  if (format === null) {
    decide(); // a short input: sniffing reports it
    await feed(Buffer.concat(head));
  }
  if (gunzip !== null) (gunzip as Gunzip).end();
  else endTar();
  await finished;
  if (failure !== null) throw failure;
  // tar marks its end with zero blocks; without them the archive was cut at an entry boundary.
  if (tarBytes - endOfLastEntry < 512) throw new RootfsError('rootfs archive is truncated (no end-of-archive marker)');

  return { digest: await hash.digest(), contentBytes, entries, format: format ?? 'tar' };
}

/** Wait until `stream` can take more, or the extraction fails. */
function drained(stream: { once(event: 'drain', fn: () => void): unknown }, failed: Promise<void>): Promise<void> {
  return Promise.race([new Promise<void>((resolve) => stream.once('drain', resolve)), failed]);
}

/**
 * tar-stream decodes PAX values as UTF-8 strings, which corrupts binary xattr values. It
 * has no option for raw values, so the raw PAX header bytes are taken where tar-stream
 * decodes them (its _decodeLongHeader, v3) and parsed here. A unit test round-trips every
 * byte value through an xattr and fails if this hook stops seeing them.
 */
function capturePax(extract: tar.Extract): { take(): PaxRecords } {
  type Internals = { _header: { type: string } | null; _decodeLongHeader: (buf: Buffer) => void };
  const internals = extract as unknown as Internals;
  const original = internals._decodeLongHeader;
  if (typeof original !== 'function') throw new Error('tar-stream internals changed: _decodeLongHeader is missing');
  let global: PaxRecords = new Map();
  let local: PaxRecords | null = null;
  internals._decodeLongHeader = function (this: Internals, buf: Buffer): void {
    const type = this._header?.type;
    if (type === 'pax-header') local = parsePaxRecords(buf);
    else if (type === 'pax-global-header') global = new Map([...global, ...parsePaxRecords(buf)]);
    original.call(this, buf);
  };
  return {
    take(): PaxRecords {
      const records = local === null ? global : global.size === 0 ? local : new Map([...global, ...(local as PaxRecords)]);
      local = null;
      return records;
    },
  };
}

function withEntry(err: unknown, name: string): unknown {
  if (err instanceof BadEntryError || err instanceof RefusedEntryError) return entryError(name, err.message);
  if (err instanceof SysError && !isNoSpace(err)) return entryError(name, err.message);
  return err;
}

function isNoSpace(err: unknown): boolean {
  return err instanceof SysError && (err.code === 'ENOSPC' || err.code === 'EDQUOT');
}

/** Every failure becomes one line; tar-stream's own messages are reworded. */
function describeFailure(err: unknown, treeDir: string): TsboxError {
  if (err instanceof RootfsError) return err;
  if (isNoSpace(err)) {
    return new TsboxError(`no space left on device while extracting the rootfs into ${treeDir}`, {
      step: 'prepare rootfs',
      hint: 'Free space (or quota) on the filesystem holding the tsbox state directory.',
      cause: err,
    });
  }
  if (err instanceof PaxFormatError) return new RootfsError(`rootfs archive: malformed PAX header: ${err.message}`, { cause: err });
  if (err instanceof TsboxError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const known: Array<[RegExp, string]> = [
    [/^Invalid tar header\. Maybe/, 'rootfs archive is corrupt: a tar header has a bad checksum'],
    [/^Invalid tar header: unknown format/, 'rootfs archive is corrupt: a tar header is not in ustar, GNU or PAX format'],
    [/^Invalid header$/, 'rootfs archive is corrupt: a tar header has an invalid size'],
    [/^Unexpected end of data$/, 'rootfs archive is truncated'],
    [/^Header exceeds max size$/, 'rootfs archive: an extended header is larger than 4 MiB'],
  ];
  for (const [pattern, text] of known) if (pattern.test(message)) return new RootfsError(text, { cause: err });
  return new TsboxError(`extracting the rootfs archive: ${message}`, { step: 'prepare rootfs', cause: err });
}
