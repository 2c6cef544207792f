/**
 * -t, the init's side: once the container's devpts is mounted, ask the parent for a pty
 * (it opens the master through /proc/<our pid>/root/dev/pts/ptmx, so the pair lives in the
 * container's own instance), then make the slave our stdio and controlling terminal.
 * The init leads its own session (spawned detached), as TIOCSCTTY requires; the command
 * keeps the session, so its shell gets job control.
 */
import { closeSync, openSync } from 'node:fs';
import { dup2 } from '../sys/fd.js';
import { setControllingTerminal } from '../sys/tty.js';
import type { InitChannel } from './channel.js';

export function attachTerminal(channel: InitChannel): void {
  channel.send({ t: 'pty-request' });
  const reply = channel.readMessage();
  if (reply.t !== 'pty') throw new Error(`expected the pty from the parent, got ${reply.t}`);
  const slave = openSync(`/dev/pts/${reply.index}`, 'r+');
  setControllingTerminal(slave);
  for (const fd of [0, 1, 2]) dup2(slave, fd);
  closeSync(slave);
}
