/**
 * -t, the parent's side: the pty of the container, and the relay between it and the
 * user's terminal.
 *
 * The init asks for the pty once it mounted the container's devpts; we open the master
 * through /proc/<init>/root/dev/pts/ptmx, which allocates the pair in that instance (so
 * the container sees /dev/pts/0, and none of the host's ptys), size it like the user's
 * terminal, and tell the init the slave's number.
 *
 * While the command runs, the user's terminal is in raw mode: every key (Ctrl-C, Ctrl-Z,
 * Ctrl-D included) goes to the container's line discipline, which turns it into signals
 * for the container's foreground process group. The terminal is restored on every exit
 * path: the normal end, a failure (the cleanup stack), and process exit as a last resort.
 */
import { closeSync } from 'node:fs';
import tty from 'node:tty';
import { TsboxError } from '../errors.js';
import { getWindowSize, openPtyMaster, setWindowSize, unlockPty, type WindowSize } from '../sys/tty.js';
import type { InitConnection } from './init-connection.js';
import { pendingOn, type OutputCopy } from './output-drain.js';

export interface ContainerTerminal {
  /**
   * Raw mode on, bytes both ways, SIGWINCH forwarded; done when the container side hangs
   * up. `record` also gets every chunk shown to the user (a named run's log).
   */
  relay(record?: (data: Buffer) => void): OutputCopy;
  /** Restore the user's terminal and close the master. Idempotent. */
  close(): void;
}

const DEFAULT_SIZE: WindowSize = { rows: 24, cols: 80 };
/** After the command exits, a process it left behind on the pty is waited for this long. */
export const TERMINAL_DRAIN_MS = 500;
const HANGUP_GRACE_MS = 2000;

/** killSignal: what ends the container's side for good when the user's terminal is gone. */
export async function openContainerTerminal(init: InitConnection, killSignal: NodeJS.Signals = 'SIGKILL'): Promise<ContainerTerminal> {
  const request = await init.next();
  if (request?.t !== 'pty-request') {
    if (request?.t === 'error') throw new TsboxError(request.message, { step: request.step, hint: request.hint, exitCode: request.exitCode });
    throw new TsboxError(`the container's init did not ask for its terminal (${request?.t ?? 'it exited'})`);
  }
  const master = openPtyMaster(`/proc/${init.pid}/root/dev/pts/ptmx`);
  let closed = false;
  let restore: (() => void) | null = null;
  let stream: tty.ReadStream | null = null;
  try {
    const index = unlockPty(master);
    setWindowSize(master, hostWindowSize());
    init.send({ t: 'pty', index });
  } catch (err) {
    closeSync(master);
    throw err;
  }

  const close = () => {
    if (closed) return;
    closed = true;
    restore?.();
    if (stream) stream.destroy(); // closes the master
    else closeSync(master);
  };

  const relay = (record?: (data: Buffer) => void): OutputCopy => {
    // A tty stream on the master: libuv reads and writes it without blocking the loop.
    const master$ = new tty.ReadStream(master);
    stream = master$;
    const done = new Promise<void>((resolve) => {
      const stdin = process.stdin;
      const hostIsTty = stdin.isTTY === true;
      if (hostIsTty) stdin.setRawMode(true);
      const onInput = (data: Buffer) => master$.write(data);
      const onResize = () => {
        try {
          setWindowSize(master, hostWindowSize());
        } catch {
          // the container is going away
        }
      };
      const onExit = () => {
        if (hostIsTty) stdin.setRawMode(false);
      };
      // The user's terminal went away (hangup): hang up the container's terminal too, as
      // closing an xterm does; its shell reads EIO and exits. PID 1 ignores SIGHUP without
      // a handler, so a command that never reads is killed after a grace period.
      const onHangup = () => {
        master$.destroy();
        setTimeout(() => init.child.kill(killSignal), HANGUP_GRACE_MS).unref();
      };
      const onOutputError = () => {}; // EIO once the terminal is gone: the output has nowhere to go
      stdin.on('data', onInput);
      stdin.on('end', onHangup);
      stdin.on('error', onHangup);
      process.stdout.on('error', onOutputError);
      process.on('SIGWINCH', onResize);
      process.on('exit', onExit);
      restore = () => {
        stdin.off('data', onInput);
        stdin.off('end', onHangup);
        stdin.off('error', onHangup);
        stdin.pause();
        process.off('SIGWINCH', onResize);
        process.off('exit', onExit);
        onExit();
      };
      master$.on('data', (data: Buffer) => {
        record?.(data);
        process.stdout.write(data);
      });
      // EIO on the master: every holder of the slave closed it, i.e. the container ended.
      const done = () => resolve();
      master$.on('end', done);
      master$.on('error', done);
      master$.on('close', done);
    });
    return { done, pending: pendingOn(master$, master) };
  };

  return { relay, close };
}

function hostWindowSize(): WindowSize {
  const size = getWindowSize(0) ?? getWindowSize(1);
  return size && size.rows > 0 && size.cols > 0 ? size : DEFAULT_SIZE;
}
