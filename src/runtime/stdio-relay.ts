/**
 * A container never gets the user's terminal as a file descriptor. Without a pty of its own
 * (`tsbox exec` or `tsbox run` with stdin not a terminal, or --no-tty), an inherited stdio
 * that is the user's terminal would be the host's tty inside the container: any process there
 * could reopen it through /proc/PID/fd/N, keep it after the command ended, print into the
 * user's terminal and read what the user types next (issue 10, finding 4). docker never
 * hands the client's terminal to a container; neither does tsbox.
 *
 * Each of tsbox's stdio fds that is a terminal and would be inherited is replaced by a pipe,
 * and tsbox copies: its terminal into the container's stdin pipe, the container's stdout and
 * stderr pipes to its terminal. Everything else (pipes, files, /dev/null) is still passed
 * straight through, byte for byte and without a copy.
 */
import { Socket } from 'node:net';
import type { StdioChoice } from '../spec/run-spec.js';
import { pipe } from '../sys/fd.js';
import { closeQuietly, writeAllAsync } from './fd-write.js';
import { allCopies, pendingOn, type OutputCopy } from './output-drain.js';

export type Stdio = [StdioChoice, StdioChoice, StdioChoice];

export interface StdioRelay {
  /** The stdio to start the container's process with. */
  readonly stdio: Stdio;
  /** After the process started: drop the container's ends, copy until its output closes. */
  start(): OutputCopy;
  /** Stop copying, close every fd. Idempotent. */
  close(): void;
}

/**
 * Which of `stdio` to relay: the 'inherit' entries whose fd is a terminal. Pure: the
 * terminal test is passed in. Null when there is nothing to relay.
 */
export function terminalsToRelay(stdio: Stdio, isTerminal: (fd: number) => boolean): number[] {
  return [0, 1, 2].filter((fd) => stdio[fd] === 'inherit' && isTerminal(fd));
}

export function relayTerminals(stdio: Stdio, isTerminal: (fd: number) => boolean): StdioRelay | null {
  const relayed = terminalsToRelay(stdio, isTerminal);
  if (relayed.length === 0) return null;
  const ours: number[] = []; // our ends
  const theirs: number[] = []; // the container's ends, closed once it started
  const sockets: Socket[] = [];
  const next = [...stdio] as Stdio;
  try {
    for (const fd of relayed) {
      const [r, w] = pipe();
      const [mine, container] = fd === 0 ? [w, r] : [r, w];
      ours.push(mine);
      theirs.push(container);
      next[fd] = container;
    }
  } catch (err) {
    for (const fd of [...ours, ...theirs]) closeQuietly(fd);
    throw err;
  }
  let closed = false;
  let stopInput: (() => void) | null = null;
  const close = () => {
    if (closed) return;
    closed = true;
    stopInput?.();
    for (const s of sockets) s.destroy();
    for (const fd of theirs.splice(0)) closeQuietly(fd);
  };
  return {
    stdio: next,
    start: () => {
      for (const fd of theirs.splice(0)) closeQuietly(fd);
      const copies: OutputCopy[] = [];
      relayed.forEach((fd, i) => {
        const socket = new Socket({ fd: ours[i]!, readable: fd !== 0, writable: fd === 0 });
        sockets.push(socket);
        if (fd === 0) stopInput = copyInput(socket);
        else copies.push({ done: copyOutput(socket, fd), pending: pendingOn(socket, ours[i]!) });
      });
      return allCopies(copies);
    },
    close,
  };
}

/** The user's terminal into the container's stdin; the end of input closes the pipe. */
function copyInput(dest: Socket): () => void {
  const stdin = process.stdin;
  const onData = (data: Buffer) => {
    if (!dest.write(data)) {
      stdin.pause();
      dest.once('drain', () => stdin.resume());
    }
  };
  const onEnd = () => dest.end();
  dest.on('error', () => stop()); // the container closed its stdin: stop reading ours
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  const stop = () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause(); // lets tsbox exit: a paused terminal stream holds no reference on the loop
    dest.destroy();
  };
  return stop;
}

async function copyOutput(source: Socket, fd: number): Promise<void> {
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) await writeAllAsync(fd, chunk);
  } catch {
    // destroyed by close(), or the terminal went away: the output has nowhere to go
  }
}


