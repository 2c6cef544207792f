/**
 * The terminal tests' tmux sessions (tests/helpers/tmux.ts) start reliably one after the
 * other. Plain `kill-server` followed by `new-session` on the same socket fails about one
 * time in three with tmux 3.3a ("server exited unexpectedly"): the old server was still
 * exiting. Twenty sessions in a row would all but surely hit that.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTmux } from '../helpers/tmux.js';

describe('tmux sessions for tests', () => {
  it('twenty sessions in a row each start, show their output, and close with their server gone', async () => {
    const sockets = () => readdirSync(`/tmp/tmux-${process.getuid!()}`).filter((n) => n.startsWith(`tsbox-test-${process.pid}-`));
    const before = sockets();
    for (let i = 0; i < 20; i++) {
      const session = await startTmux(`echo session-${i}; sleep 60`);
      try {
        await session.screenShows(new RegExp(`^session-${i}$`, 'm'));
        expect(await session.processRuns(['sleep', '60'])).toBeGreaterThan(0);
      } finally {
        await session.close();
      }
    }
    expect(sockets()).toEqual(before); // and nothing left in tmux's socket directory
  }, 120_000);
});
