/**
 * The container's stdin, stdout and stderr as the API offers them, turned into what the
 * runtime takes (an fd, 'inherit' or 'ignore' for each of the three).
 *
 *   'pipe'    a Node Readable, there as soon as run() returns
 *   'buffer'  collected, and in the result once the container is gone
 *   stdin     a Readable (copied in), or `input` (a string or Buffer, written then closed)
 *
 * Each is a real pipe (sys/fd.ts), not a socket pair: the container's /dev/stdout opens,
 * and a reader that goes away means EPIPE, as with a shell. Only our end gets a Node stream
 * (and so O_NONBLOCK); the container's end is a file description of its own and stays
 * blocking. We hold the container's end until the run is over and then close it, so the
 * reader sees EOF once every process of the container has exited.
 */
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { OUTPUT_DRAIN_MS } from '../runtime/output-log.js';
import { drainAfterExit, pendingOn } from '../runtime/output-drain.js';
import type { StdioChoice } from '../spec/run-spec.js';
import { pipe } from '../sys/fd.js';

export type OutputMode = 'inherit' | 'pipe' | 'buffer' | 'ignore' | number;
export type InputMode = 'inherit' | 'ignore' | number | Readable;

export interface StdioRequest {
  stdin: InputMode;
  input?: string | Buffer | undefined;
  stdout: OutputMode;
  stderr: OutputMode;
}

export interface Plumbing {
  /** What the container's process gets as fds 0, 1, 2. */
  readonly stdio: [StdioChoice, StdioChoice, StdioChoice];
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /**
   * The run is over: close the container's ends we held and stop feeding stdin; resolves
   * with what 'buffer' collected (null for the other modes) once both readers saw EOF.
   */
  finish(): Promise<{ stdout: Buffer | null; stderr: Buffer | null }>;
}

export function openPlumbing(req: StdioRequest): Plumbing {
  const theirs: number[] = []; // the container's ends, closed by finish()
  const cleanups: (() => void)[] = [];
  const readers: (Readable | null)[] = []; // destroyed only if opening fails half way
  try {
    const stdin = inputSide(req, theirs, cleanups);
    const out = outputSide(req.stdout, theirs);
    readers.push(out.reader);
    const err = outputSide(req.stderr, theirs);
    let finished: Promise<{ stdout: Buffer | null; stderr: Buffer | null }> | null = null;
    return {
      stdio: [stdin, out.choice, err.choice],
      stdout: req.stdout === 'pipe' ? out.reader : null,
      stderr: req.stderr === 'pipe' ? err.reader : null,
      finish: () =>
        (finished ??= (async () => {
          for (const fd of theirs.splice(0)) closeQuietly(fd);
          for (const c of cleanups.splice(0)) c();
          const [stdout, stderr] = await Promise.all([out.collected(), err.collected()]);
          return { stdout, stderr };
        })()),
    };
  } catch (e) {
    for (const fd of theirs) closeQuietly(fd);
    for (const c of cleanups) c();
    for (const r of readers) r?.destroy();
    throw e;
  }
}

function inputSide(req: StdioRequest, theirs: number[], cleanups: (() => void)[]): StdioChoice {
  const source = req.input !== undefined ? req.input : typeof req.stdin === 'object' ? req.stdin : null;
  if (source === null) return req.stdin as StdioChoice;
  const [r, w] = pipe();
  theirs.push(r);
  const sink = new Socket({ fd: w, readable: false, writable: true });
  // The container may exit without reading all of it (EPIPE), or before we wrote it all.
  sink.on('error', () => {});
  if (typeof source === 'string' || Buffer.isBuffer(source)) {
    sink.end(source);
  } else {
    source.pipe(sink);
    cleanups.push(() => source.unpipe(sink));
  }
  cleanups.push(() => sink.destroy());
  return r;
}

/** `collected` is called once the container's end is closed: what 'buffer' read. */
function outputSide(mode: OutputMode, theirs: number[]): { choice: StdioChoice; reader: Readable | null; collected: () => Promise<Buffer | null> } {
  const none = async () => null;
  if (mode !== 'pipe' && mode !== 'buffer') return { choice: mode, reader: null, collected: none };
  const [r, w] = pipe();
  theirs.push(w);
  const reader = new Socket({ fd: r, readable: true, writable: false });
  const ended = new Promise<void>((resolve) => {
    reader.once('end', resolve);
    reader.once('close', resolve);
  });
  // A caller that reads the stream sees all of it before the result: wait for its end (a
  // process left behind may hold the pipe: not past the drain time). One that never
  // started reading is not waited for; the rest stays in the stream, as with child_process.
  const drained = async (): Promise<void> => {
    if (reader.readableFlowing !== true) return;
    await drainAfterExit({ done: ended, pending: pendingOn(reader, r) }, OUTPUT_DRAIN_MS);
  };
  if (mode === 'pipe') return { choice: w, reader, collected: async () => (await drained(), null) };
  const chunks: Buffer[] = [];
  reader.on('data', (c: Buffer) => chunks.push(c));
  // Read until EOF; but a process the command left behind (exec's `cmd &`) may hold the
  // pipe open for ever: after the drain time, keep what came.
  const collected = async (): Promise<Buffer> => {
    await drained();
    reader.destroy();
    return Buffer.concat(chunks);
  };
  return { choice: w, reader, collected };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * Run `work` with the container's ends of the pipes in place, then collect what was captured:
 * the pipes are finished whether `work` resolves or rejects (a rejection passes through), and
 * the output comes back decoded as the caller's `encoding` asks.
 */
export async function withPlumbing<T>(plumbing: Plumbing, encoding: 'utf8' | 'buffer', work: () => Promise<T>): Promise<{ value: T; stdout: string | Buffer | null; stderr: string | Buffer | null }> {
  let value: T;
  try {
    value = await work();
  } catch (err) {
    await plumbing.finish();
    throw err;
  }
  const output = await plumbing.finish();
  const decode = (b: Buffer | null) => (b === null ? null : encoding === 'buffer' ? b : b.toString('utf8'));
  return { value, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}
