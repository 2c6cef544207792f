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
 * the tree (see tree-writer.ts and fs/in-root) and that a broken or hostile
 * archive fails with one clear line.
 *
 * The tar bytes go through our own reader (tar-reader.ts), parsed in place from large
 * read buffers: per-entry stream objects cost more than the syscalls of the entry.
 * A file's reader hashes what it reads (on a worker thread for big archives, see
 * archive-hash.ts); other inputs are hashed here. Gunzip runs on zlib's thread.
 */
import { createGunzip, type Gunzip } from 'node:zlib';
import { TsboxError } from '../errors.js';
import { AT, close, O, openat, writeAll } from '../sys/fs.js';
import { tracing } from '../sys/libc.js';
import { currentUmask } from '../sys/process.js';
import { SysError } from '../sys/sys-error.js';
import { sniffArchive, SNIFF_BYTES, type ArchiveFormat } from './archive-format.js';
import { createInlineHasher, isHashedArchive, type InlineHasher } from './archive-hash.js';
import { releaseChunk } from './chunk-ring.js';
import { entryError, RootfsError } from './errors.js';
import { BadEntryError, planEntry, type EntryPlan } from './entry-plan.js';
import { displayPath } from './entry-path.js';
import { PaxFormatError, type PaxRecords } from './pax.js';
import { TarFormatError, type TarHeader } from './tar-header.js';
import { TarReader, type TarSink } from './tar-reader.js';
import { TmpfilePool } from './tmpfile-pool.js';
import { RefusedEntryError, TreeWriter, type OpenFile } from './tree-writer.js';
import { layerAction, WhiteoutError, type LayerAction } from './layer-entries.js';
import { decompress, DecompressError, sniffCompression } from './oci/decompress.js';
import { peekStream } from './peek.js';

export interface ExtractOptions {
  /**
   * Limit on what the archive expands to: regular file content plus every header and
   * extended header (gzip bombs, runaway archives, streams of metadata).
   */
  maxBytes: number;
  /**
   * An image layer (already decompressed: the input is the tar itself, which may be an
   * empty archive without magic): whiteouts become overlay whiteouts, device nodes are
   * dropped, overlay xattrs refused (layer-entries.ts).
   */
  layer?: boolean;
  /** Limit on the number of members (a stream of empty files or directories costs no content). */
  maxEntries: number;
  /** Stops the extraction (Ctrl-C, SIGTERM...): it fails promptly, whatever the input does. */
  signal?: AbortSignal;
  /** Counters the extraction keeps up to date, for a progress display. */
  progress?: ExtractProgress;
  /**
   * Unnamed files made ahead (tmpfile-pool.ts), owned by the caller; default: the extraction
   * makes its own in the tree (none while --debug traces calls); null: none.
   */
  tmpfiles?: TmpfilePool | null;
}

export interface ExtractProgress {
  /** Archive bytes read (compressed, for gzip). */
  inputBytes: number;
  entries: number;
}

/** The extraction was stopped through its AbortSignal. */
export class ExtractionAbortedError extends TsboxError {
  constructor() {
    super('the rootfs extraction was interrupted', { step: 'prepare rootfs' });
  }
}

export interface ExtractResult {
  /** "sha256:<hex>" of the archive bytes as read (compressed, for gzip). */
  digest: string;
  /** Bytes of regular file content written. */
  contentBytes: number;
  entries: number;
  format: 'tar' | 'gzip' | 'zstd' | 'xz';
  /** Directories created as parents the archive never listed (member paths, "a/b"). */
  implicitDirs: string[];
  /** Layers only: hard links whose target is in a layer below, [path, target]. */
  crossLayerLinks: Array<[string, string]>;
}

export async function extractArchive(input: AsyncIterable<Buffer | string>, treeDir: string, opts: ExtractOptions): Promise<ExtractResult> {
  const rootFd = openat(AT.FDCWD, treeDir, O.RDONLY | O.DIRECTORY | O.NOFOLLOW);
  // Inode allocation ahead of need on the thread pool (tmpfile-pool.ts); not while --debug
  // traces every call, which must show each file's creation as the call that made it.
  const own = opts.tmpfiles === undefined && !tracing() ? new TmpfilePool(rootFd) : null;
  const pool = opts.tmpfiles === undefined ? own : opts.tmpfiles;
  const writer = new TreeWriter(rootFd, { uid: process.geteuid!(), gid: process.getegid!(), umask: currentUmask() }, pool);
  try {
    return await run(input, writer, opts);
  } catch (err) {
    writer.abandon();
    throw describeFailure(err, treeDir);
  } finally {
    await own?.close();
    close(rootFd);
  }
}

async function run(input: AsyncIterable<Buffer | string>, writer: TreeWriter, opts: ExtractOptions): Promise<ExtractResult> {
  const hashed = isHashedArchive(input) ? input : null;
  const inline = hashed === null ? createInlineHasher() : null;
  const sink = new ExtractSink(writer, opts);
  try {
    // zstd and xz archives: decoded by a program (oci/decompress.ts), the archive's own
    // bytes still hashed for the digest; gzip and plain tar take the in-process path.
    const { head, rest } = await peekStream(input, 6);
    const outer = opts.layer === true ? 'none' : sniffCompression(head);
    let format: ExtractResult['format'];
    if (outer === 'zstd' || outer === 'xz') {
      const compressed = copyAndRelease(rest, inline);
      await feed(decompress(compressed, outer, opts.maxBytes + 1024 ** 3), null, new TarReader(sink), { ...opts, layer: false });
      format = outer;
    } else {
      format = await feed(rest, inline, new TarReader(sink), opts);
    }
    // Directory times first: the hashing worker may still be finishing meanwhile.
    writer.finish();
    return { digest: inline?.digest() ?? (await hashed!.digest()), contentBytes: sink.contentBytes, entries: sink.entries, format, implicitDirs: [...writer.implicitDirs], crossLayerLinks: sink.crossLayerLinks };
  } catch (err) {
    hashed?.abort();
    sink.abandon();
    throw err;
  }
}


/**
 * Chunks for a decoder that keeps them past the call (a pipe write): copied, so a pooled
 * read buffer goes back to its ring at once; hashed when the input does not hash itself.
 */
async function* copyAndRelease(input: AsyncIterable<Buffer | string>, hash: InlineHasher | null): AsyncIterable<Buffer> {
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    hash?.update(chunk);
    const copy = Buffer.from(chunk);
    releaseChunk(chunk);
    yield copy;
  }
}

/**
 * Read the input, hash every byte (unless the input does it), and push the tar bytes
 * (gunzipped when the magic says gzip) through the reader. Plain tar is parsed straight from the read chunks, on this
 * thread; gunzip runs on zlib's thread, with backpressure.
 *
 * Stopping: every wait (the next chunk of a stalled pipe, zlib's drain) races the abort
 * signal, and a file read synchronously yields to the event loop every few milliseconds,
 * so that the signal handler that aborts can run at all.
 */
async function feed(input: AsyncIterable<Buffer | string>, hash: InlineHasher | null, reader: TarReader, opts: ExtractOptions): Promise<ArchiveFormat> {
  let head: Buffer[] = [];
  let headBytes = 0;
  let format: ArchiveFormat | null = null;
  let gunzip: Gunzip | null = null;
  let gzipDone: Promise<void> | null = null;
  const signal = opts.signal;
  const progress = opts.progress;
  let lastYield = performance.now();

  const decide = (headBuf: Buffer): void => {
    if (opts.layer === true) {
      format = 'tar'; // a layer's tar, already decompressed (an empty layer has no magic)
      return;
    }
    const sniffed = sniffArchive(headBuf);
    if ('unsupported' in sniffed) throw new RootfsError(`rootfs archive: ${sniffed.unsupported}`);
    format = sniffed.format;
    if (format === 'gzip') [gunzip, gzipDone] = startGunzip(reader, opts.signal);
  };

  const consume = async (chunk: Buffer): Promise<void> => {
    if (gunzip === null) {
      reader.push(chunk);
      releaseChunk(chunk);
    } else {
      // zlib reads the chunk later, on its thread: it goes back to the pool only then.
      const gz: Gunzip = gunzip;
      const accepted = gz.write(chunk, () => releaseChunk(chunk));
      if (!accepted) await orAbort(Promise.race([new Promise<void>((resolve) => gz.once('drain', resolve)), gzipDone!]), signal);
    }
    if (performance.now() - lastYield > YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
    if (signal?.aborted) throw new ExtractionAbortedError();
  };

  const iterator = input[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const next = await orAbort(iterator.next(), signal);
      if (next.done) break;
      const raw = next.value;
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      hash?.update(chunk);
      if (progress) progress.inputBytes += chunk.length;
      if (format === null) {
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes < SNIFF_BYTES) continue;
        const parts = head;
        head = [];
        const all = parts.length === 1 ? chunk : Buffer.concat(parts);
        if (all !== chunk) for (const c of parts) releaseChunk(c); // copied
        decide(all);
        await consume(all);
      } else {
        await consume(chunk);
      }
    }
    finished = true;
    if (format === null) {
      const all = Buffer.concat(head);
      decide(all); // a short input: sniffing reports it
      await consume(all);
    }
    if (gunzip !== null) {
      (gunzip as Gunzip).end();
      await orAbort(gzipDone!, signal);
    }
    reader.end();
  } catch (err) {
    (gunzip as Gunzip | null)?.destroy();
    // Stop the input: close the file, or destroy the pipe even while a read is pending.
    if (!finished) iterator.return?.().catch(() => {});
    throw err;
  }
  return format ?? 'tar';
}

/** A file read from the page cache never waits: let signals and timers run this often. */
const YIELD_EVERY_MS = 20;

/**
 * `p`, or a rejection as soon as `signal` aborts, whichever comes first. The abort listener
 * is removed when `p` settles (racing every chunk against one long-lived promise would
 * pile up a reaction per chunk).
 */
function orAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(new ExtractionAbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ExtractionAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** A gunzip whose output goes into the reader; the promise settles when it has all gone through. */
function startGunzip(reader: TarReader, signal: AbortSignal | undefined): [Gunzip, Promise<void>] {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  const done = new Promise<void>((resolve, reject) => {
    gz.on('data', (out: Buffer) => {
      try {
        if (signal?.aborted) throw new ExtractionAbortedError();
        reader.push(out);
      } catch (err) {
        gz.destroy();
        reject(err);
      }
    });
    gz.on('end', resolve);
    gz.on('error', (err) => reject(new RootfsError(`rootfs archive: gzip data is corrupt or truncated (${err.message})`)));
  });
  done.catch(() => {}); // observed by the caller; avoid an unhandled rejection meanwhile
  return [gz, done];
}

/**
 * Executes members as the reader finds them: plan (pure checks), then the tree writer.
 * Everything is synchronous FFI on this thread: a handful of direct syscalls per entry is
 * far cheaper than a round trip through the libuv thread pool for each.
 */
class ExtractSink implements TarSink {
  contentBytes = 0;
  /** Header blocks and extended headers: they count toward maxBytes like content. */
  metadataBytes = 0;
  entries = 0;
  private plan: EntryPlan | null = null;
  private file: OpenFile | null = null;
  private readonly maxBytes: number;
  private readonly maxEntries: number;

  private readonly layer: boolean;
  /** Device nodes an image layer carried: dropped (see layer-entries.ts). */
  droppedDevices = 0;
  /** An image layer's hard links to files of the layers below: [path, target]. */
  readonly crossLayerLinks: Array<[string, string]> = [];

  constructor(
    private readonly writer: TreeWriter,
    private readonly opts: ExtractOptions,
  ) {
    this.layer = opts.layer === true;
    this.maxBytes = opts.maxBytes;
    this.maxEntries = opts.maxEntries;
  }

  metadata(bytes: number): void {
    this.metadataBytes += bytes;
    if (this.metadataBytes + this.contentBytes > this.maxBytes) throw this.tooBig(null);
  }

  entry(header: TarHeader, pax: PaxRecords): void {
    let plan: EntryPlan;
    let action: LayerAction = { kind: 'keep' };
    try {
      plan = planEntry(header, pax);
      if (this.layer) action = layerAction(plan);
    } catch (err) {
      throw withEntry(err, displayName(header, pax));
    }
    if (++this.entries > this.maxEntries) {
      throw new RootfsError(`rootfs archive has more than ${this.maxEntries} entries (at ${JSON.stringify(displayPath(plan.name))})`, {
        hint: 'Raise --max-rootfs-entries if the image really has that many files.',
      });
    }
    if (this.opts.progress) this.opts.progress.entries = this.entries;
    try {
      if (action.kind === 'whiteout') return this.writer.whiteout(action.path);
      if (action.kind === 'opaque') return this.writer.opaque(action.dir);
      if (action.kind === 'ignore') return;
      if (action.kind === 'drop-device') {
        this.droppedDevices++;
        return;
      }
      if (plan.kind === 'hardlink' && this.layer) {
        try {
          this.writer.create(plan);
        } catch (err) {
          // The target is in a layer below: legal, but no overlay stack can show it.
          // Recorded; an image with such a link is flattened (oci/flatten.ts).
          if (!(err instanceof SysError && err.code === 'ENOENT')) throw err;
          this.crossLayerLinks.push([plan.path.join('/'), plan.linkTarget!.join('/')]);
        }
        return;
      }
      if (plan.kind !== 'file') {
        this.writer.create(plan);
        return;
      }
      if (this.metadataBytes + this.contentBytes + plan.size > this.maxBytes) throw this.tooBig(plan.name);
      this.contentBytes += plan.size;
      this.file = this.writer.createFile(plan);
      this.plan = plan;
    } catch (err) {
      throw withEntry(err, plan.name);
    }
  }

  data(bytes: Uint8Array): void {
    if (this.file === null) return; // data of a member that is not a regular file: skipped
    try {
      writeAll(this.file.fd, bytes);
    } catch (err) {
      throw withEntry(err, this.plan!.name);
    }
  }

  entryEnd(): void {
    if (this.file === null) return;
    const file = this.file;
    const plan = this.plan!;
    this.file = null;
    this.plan = null;
    try {
      this.writer.finishFile(file, plan);
    } catch (err) {
      throw withEntry(err, plan.name);
    }
  }

  private tooBig(name: string | null): RootfsError {
    const at = name === null ? '' : ` (at ${JSON.stringify(displayPath(name))})`;
    return new RootfsError(`rootfs archive expands to more than ${this.maxBytes} bytes${at}`, {
      hint: 'Raise --max-rootfs-size if the image is really that large.',
    });
  }

  /** Close the file being written, if any (on failure). */
  abandon(): void {
    if (this.file === null) return;
    try {
      close(this.file.fd);
    } catch {
      // already failing; the first error is the one to report
    }
    this.file = null;
  }
}

/** The member's name for messages: the PAX path when there is one, even a malformed one. */
function displayName(header: TarHeader, pax: PaxRecords): string {
  return pax.get('path')?.toString('latin1') ?? header.name;
}

/** `name` is a byte string (see entry-path.ts): shown as UTF-8 in messages. */
function withEntry(err: unknown, name: string): unknown {
  if (err instanceof BadEntryError || err instanceof RefusedEntryError || err instanceof WhiteoutError) return entryError(displayPath(name), err.message);
  if (err instanceof SysError && !isNoSpace(err)) return entryError(displayPath(name), err.message);
  return err;
}

function isNoSpace(err: unknown): boolean {
  return err instanceof SysError && (err.code === 'ENOSPC' || err.code === 'EDQUOT');
}

/** Every failure becomes one line. */
function describeFailure(err: unknown, treeDir: string): TsboxError {
  if (err instanceof RootfsError) return err;
  if (isNoSpace(err)) {
    return new TsboxError(`no space left on device while extracting the rootfs into ${treeDir}`, {
      step: 'prepare rootfs',
      hint: 'Free space (or quota) on the filesystem holding the tsbox state directory.',
      cause: err,
    });
  }
  if (err instanceof DecompressError) return new RootfsError(`rootfs archive: ${err.message}`, { cause: err });
  if (err instanceof PaxFormatError) return new RootfsError(`rootfs archive: malformed PAX header: ${err.message}`, { cause: err });
  if (err instanceof TarFormatError) {
    if (err.kind === 'corrupt') return new RootfsError(`rootfs archive is corrupt: ${err.message}`, { cause: err });
    if (err.kind === 'truncated') return new RootfsError(`rootfs archive is truncated${err.message ? ` (${err.message})` : ''}`, { cause: err });
    return new RootfsError(`rootfs archive: ${err.message}`, { cause: err });
  }
  if (err instanceof TsboxError) return err; // ExtractionAbortedError too
  const message = err instanceof Error ? err.message : String(err);
  return new TsboxError(`extracting the rootfs archive: ${message}`, { step: 'prepare rootfs', cause: err });
}
