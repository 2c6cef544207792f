/**
 * The parent's end of the sync socket when the init has already ended: a message sent then
 * must not cost the init's last words (its one-line error). A real child process plays the
 * init; this thread stays busy while it writes and exits, as the parent is while it wires the
 * network, so its words are still unread in the socket when the next message goes out.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InitConnection } from '../../src/runtime/init-connection.js';

/** Blocks (no event loop turn) until the process is a zombie: it has written and exited. */
function waitUntilZombie(pid: number): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 2000; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
    Atomics.wait(sleeper, 0, 0, 5);
  }
  throw new Error(`process ${pid} did not exit`);
}

describe('InitConnection with an init that has ended', () => {
  it("a message sent after the init's error still lets the parent read that error", async () => {
    const error = { t: 'error', step: 'find command', message: '/etc/passwd: permission denied', exitCode: 126 };
    const script = `require('fs').writeSync(3, ${JSON.stringify(JSON.stringify(error) + '\n')}); process.exit(126);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    const init = new InitConnection(child, () => {});
    waitUntilZombie(child.pid!);
    init.send({ t: 'start' });
    const failure = await init.expectCreated().then(() => null, (err: unknown) => err as { message: string; step?: string; exitCode?: number });
    expect(failure).toMatchObject({ message: error.message, step: 'find command', exitCode: 126 });
    expect(await init.exited).toEqual({ code: 126, signal: null });
  });
});
