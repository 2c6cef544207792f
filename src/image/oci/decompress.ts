/**
 * Decompression of layers and of whole archives: gzip, zstd, xz, told by magic bytes.
 *
 * - gzip: Node's zlib (on its thread pool).
 * - zstd: zlib's own decoder where Node has one (22.15+); on Node 20 the `zstd` program
 *   as a subprocess. Why a program: it is the reference decoder (correct on every valid
 *   input, content checksums checked, corrupt input fails with an error), `--memory`
 *   bounds the window it will allocate, and it runs on another core. The pure-JS and
 *   wasm decoders measured here returned wrong bytes (windows >= 128 MiB) or looped on
 *   corrupt input; native addons need a compiler at install time.
 * - xz: the `xz` program, likewise, with --memlimit.
 * Every decoder's output is bounded (`maxBytes`): a bomb stops at the limit with one line.
 */
import { spawn } from 'node:child_process';
// A named import: the bundle loads zlib at its first use, not at every start (scripts/bundle.mjs).
import { createGunzip } from 'node:zlib';
import { createRequire } from 'node:module';

const requireBuiltin = createRequire(import.meta.url);
import { Readable } from 'node:stream';

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz';

/** A zstd window beyond this is refused (the zstd CLI's own default limit is 128 MiB). */
export const ZSTD_WINDOW_LIMIT = '128MB';
const XZ_MEMLIMIT = '512MiB';

export function sniffCompression(head: Uint8Array): Compression | 'bzip2' {
  const m = (bytes: number[]): boolean => head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
  if (m([0x1f, 0x8b])) return 'gzip';
  if (m([0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  // A zstd skippable frame (0x184D2A5?, little endian) may come first (zstd:chunked).
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  if (m([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (m([0x42, 0x5a, 0x68])) return 'bzip2';
  return 'none';
}

export class DecompressError extends Error {}

type Source = AsyncIterable<Buffer | Uint8Array>;

/** The decompressed bytes of `input`, at most `maxBytes` of them. */
export function decompress(input: Source, kind: Compression, maxBytes: number): AsyncIterable<Buffer> {
  switch (kind) {
    case 'none':
      return bounded(input, maxBytes, 'data');
    case 'gzip':
      return bounded(viaTransform(input, createGunzip({ chunkSize: 256 * 1024 }), 'gzip'), maxBytes, 'gzip data');
    case 'zstd': {
      // Node 22.15+ decompresses zstd itself; asked at use, so that zlib is not loaded at start.
      const native = (requireBuiltin('node:zlib') as { createZstdDecompress?: (o?: object) => NodeJS.ReadWriteStream }).createZstdDecompress;
      if (native !== undefined) return bounded(viaTransform(input, native(), 'zstd'), maxBytes, 'zstd data');
      return bounded(viaProgram(input, 'zstd', ['-d', '-c', '-q', `--memory=${ZSTD_WINDOW_LIMIT}`]), maxBytes, 'zstd data');
    }
    case 'xz':
      return bounded(viaProgram(input, 'xz', ['-d', '-c', '-q', `--memlimit-decompress=${XZ_MEMLIMIT}`]), maxBytes, 'xz data');
  }
}

async function* bounded(input: Source, maxBytes: number, what: string): AsyncIterable<Buffer> {
  let total = 0;
  for await (const chunk of input) {
    total += chunk.length;
    if (total > maxBytes) throw new DecompressError(`${what} expands to more than ${maxBytes} bytes`);
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  }
}

async function* viaTransform(input: Source, transform: NodeJS.ReadWriteStream, what: string): AsyncIterable<Buffer> {
  // Observed after the output ends; a consumer that stops early may close the input under it.
  const feeding = feed(input, transform as unknown as NodeJS.WritableStream).catch((err: unknown) => err);
  try {
    for await (const out of transform as unknown as AsyncIterable<Buffer>) yield out;
    const fed = await feeding;
    if (fed instanceof Error) throw fed;
  } catch (err) {
    if (err instanceof DecompressError) throw err;
    throw new DecompressError(`${what} data is corrupt or truncated (${(err as Error).message})`);
  } finally {
    (transform as unknown as Readable).destroy();
  }
}

/** Write the input into a stream with backpressure, then end it. */
async function feed(input: Source, sink: NodeJS.WritableStream): Promise<void> {
  const s = sink as unknown as import('node:stream').Writable;
  try {
    for await (const chunk of input) {
      if (s.destroyed) return;
      if (!s.write(chunk)) await new Promise<void>((resolve) => {
        const done = (): void => { s.off('drain', done); s.off('close', done); resolve(); };
        s.on('drain', done);
        s.on('close', done);
      });
    }
    s.end();
  } catch (err) {
    s.destroy(err as Error);
    throw err;
  }
}

async function* viaProgram(input: Source, program: string, args: string[]): AsyncIterable<Buffer> {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  child.stdin.on('error', () => {}); // EPIPE when the decoder stops early: its exit status says why
  const feeding = feed(input, child.stdin).catch((err: unknown) => err);
  let finished = false;
  try {
    for await (const out of child.stdout as AsyncIterable<Buffer>) yield out;
    const fed = await feeding;
    if (fed instanceof Error) throw fed;
    const end = await exited;
    if (end.error !== undefined) {
      throw new DecompressError(`cannot run ${program} (${end.error.message}); install the Debian package ${program}`);
    }
    if (end.code !== 0) {
      const line = stderr.trim().split('\n').pop() ?? '';
      throw new DecompressError(`${program} data is corrupt or truncated (${line.replace(/^\S+: /, '') || `exit status ${end.code ?? end.signal}`})`);
    }
    finished = true;
  } finally {
    if (!finished) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}
