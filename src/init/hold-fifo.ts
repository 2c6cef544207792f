/**
 * tsbox-runtime's hold point: how a created container waits for `start` when no tsbox
 * process stays behind to hold it (the engine's subreaper, conmon or containerd-shim, is its
 * parent once `create` exits).
 *
 * The state directory holds a fifo (exec.fifo). Before pivot_root the init opens it O_PATH
 * (a handle, no I/O), because afterwards the host path is out of its reach. Once everything
 * is set up it opens /proc/self/fd/N for writing: open(2) of a fifo blocks until a reader
 * comes, and `start` is that reader. The init then writes one byte (start reads it as "the
 * container was waiting and is released") and execs; the fd closes at execve.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

/** Before pivot_root: a handle on the fifo that survives losing the host's paths. */
export function openHoldFifo(path: string): number {
  return openSync(path, O_PATH | O_CLOEXEC);
}

/**
 * Block until `start` opens the fifo for reading, run `beforeRelease` (the startContainer
 * hooks), then tell it we go on: '0'. If `beforeRelease` fails, start reads 'E' and the
 * reason instead, so that `start` fails with it (and we exit).
 */
export function waitAtHoldFifo(handle: number, beforeRelease: () => void = () => {}): void {
  // Through the container's /proc (pivot_root done): /proc/self is us there too.
  const fd = openSync(`/proc/self/fd/${handle}`, 'w');
  try {
    beforeRelease();
  } catch (err) {
    try {
      writeSync(fd, `E${String((err as Error).message ?? err).replace(/\n/g, ' ')}`);
    } catch {
      // start is gone: our stderr has it
    }
    throw err;
  }
  writeSync(fd, '0');
  closeSync(handle);
  // fd stays open until execve (close-on-exec): `start` sees EOF when the command runs.
}
