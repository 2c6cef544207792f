/**
 * --console-socket: the container's (or an exec's) process asked for its pty once the
 * container's devpts is mounted. The pair is made in that instance (through
 * /proc/<pid>/root, so the container sees /dev/pts/N of its own), the slave's number goes to
 * the process, the master to the engine over the unix socket (SCM_RIGHTS); our copy closes.
 */
import { closeSync } from 'node:fs';
import { TsboxError } from '../../errors.js';
import type { InitConnection } from '../../runtime/init-connection.js';
import { openPtyMaster, unlockPty } from '../../sys/tty.js';
import { sendFdOverSocket } from '../../sys/unix-fd.js';

export async function handTerminal(init: InitConnection, socket: string): Promise<void> {
  const request = await init.next();
  if (request?.t !== 'pty-request') {
    if (request?.t === 'error') throw new TsboxError(request.message, { step: request.step, hint: request.hint, exitCode: request.exitCode });
    throw new TsboxError(`the process did not ask for its terminal (${request?.t ?? 'it exited'})`);
  }
  const master = openPtyMaster(`/proc/${init.pid}/root/dev/pts/ptmx`);
  try {
    init.send({ t: 'pty', index: unlockPty(master) });
    sendFdOverSocket(socket, master);
  } finally {
    closeSync(master);
  }
}
