/**
 * The output of a kept container (detached, or a named foreground run), recorded for
 * `tsbox logs` in its container.log (timestamped lines, both streams, rotated at
 * --log-opt max-size: see log-format.ts and container-log.ts). A named foreground run's
 * user still sees the output as it comes; a detached container's goes only to the log.
 *
 * Without a terminal, the container's stdout and stderr are the write ends of two pipes
 * (real pipes, as with a plain run: /dev/stdout opens, and a closed reader means EPIPE)
 * and tsbox copies each chunk the moment it is read: into the log, then to where the
 * output would have gone (tsbox's own stdout and stderr). The container can never be
 * more than a pipe's buffer ahead of the user. When the user's end closes (`| head`), we
 * stop reading, so the container's next write fails with EPIPE as it would have directly.
 * With a terminal, the relay (terminal.ts) hands us what it shows the user, which goes to
 * the log as stdout, as docker's logs do for -t.
 *
 * Unnamed runs do none of this: their stdio is passed straight through.
 */
import { Socket } from 'node:net';
import type { LogLimits } from '../spec/log-opts.js';
import type { StdioChoice } from '../spec/run-spec.js';
import { pipe } from '../sys/fd.js';
import { closeQuietly, writeAllAsync } from './fd-write.js';
import { allCopies, pendingOn, type OutputCopy } from './output-drain.js';
import { openContainerLog, type ContainerLogWriter } from './container-log.js';
import type { LogStream } from './log-format.js';

export interface OutputLogPaths {
  /** container.log */
  log: string;
}

export interface OutputLog {
  /** The stdio to start the init with. */
  readonly stdio: [StdioChoice, StdioChoice, StdioChoice];
  /** After the init started: drop our write ends and copy until the container's side closes. */
  start(): OutputCopy;
  /** With a terminal: what the user saw, recorded as stdout. */
  record(data: Buffer): void;
  /** Stop copying and close every fd. Idempotent. */
  close(): void;
}

/**
 * How long the copy may go on after the container's PID 1 exited. The rest of its processes
 * die with it, closing the pipes at once; only a process outside the container that was
 * handed the pipe (through a unix socket on a volume) could keep it open.
 */
export const OUTPUT_DRAIN_MS = 2000;

export function openOutputLog(paths: OutputLogPaths, stdio: [StdioChoice, StdioChoice, StdioChoice], tty: boolean, limits: LogLimits): OutputLog {
  const fds: number[] = [];
  const keep = (fd: number) => (fds.push(fd), fd);
  let log: ContainerLogWriter | null = null;
  const close = () => {
    for (const fd of fds.splice(0)) closeQuietly(fd);
    for (const s of sources) s.destroy();
    log?.close();
  };
  const sources: Socket[] = [];
  try {
    const writer = (log = openContainerLog(paths.log, limits));
    if (tty) {
      // The init gives the pty to the command; nothing to copy here.
      return { stdio, start: () => ({ done: Promise.resolve(), pending: () => false }), record: (data) => writer.write('stdout', data), close };
    }
    const pipes = [pipe(), pipe()];
    for (const [r, w] of pipes) keep(r), keep(w);
    const names: LogStream[] = ['stdout', 'stderr'];
    const streams = [1, 2].map((n, i) => ({ read: pipes[i]![0], write: pipes[i]![1], log: (data: Buffer) => writer.write(names[i]!, data), dest: destination(stdio[n]!, n) }));
    return {
      stdio: [stdio[0], streams[0]!.write, streams[1]!.write],
      start: () => {
        for (const s of streams) {
          closeQuietly(s.write);
          fds.splice(fds.indexOf(s.write), 1);
          fds.splice(fds.indexOf(s.read), 1); // the socket owns it now
          const source = new Socket({ fd: s.read, readable: true, writable: false });
          sources.push(source);
        }
        return allCopies(streams.map((s, i) => ({ done: copy(sources[i]!, s.log, s.dest), pending: pendingOn(sources[i]!, s.read) })));
      },
      record: () => {},
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}

/** Where a stream would have gone without the log: an fd of ours, or nowhere. */
function destination(choice: StdioChoice, fd: number): number | null {
  if (choice === 'inherit') return fd;
  return typeof choice === 'number' ? choice : null;
}

async function copy(source: Socket, log: (data: Buffer) => void, dest: number | null): Promise<void> {
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      log(chunk);
      if (dest === null) continue;
      try {
        await writeAllAsync(dest, chunk);
      } catch (err) {
        dest = null;
        // The reader went away: stop reading, so the container sees EPIPE as it would have.
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return void source.destroy();
      }
    }
  } catch {
    // destroyed by close(): the run is over
  }
}


