/** How the API reports a container's end (src/api/outcome.ts): pure decisions. */
import { describe, expect, it } from 'vitest';
import { endReason, statusOfFailure } from '../../src/api/outcome.js';
import { TsboxError } from '../../src/errors.js';

const ran = { exitCode: 0, signal: null, oomKilled: false, stoppedBy: null, started: true } as const;

describe('endReason', () => {
  it('an exit is "exited", a signal "signaled"', () => {
    expect(endReason(ran)).toBe('exited');
    expect(endReason({ ...ran, exitCode: 127 })).toBe('exited');
    expect(endReason({ ...ran, exitCode: 143, signal: 'SIGTERM' })).toBe('signaled');
  });

  it('the OOM killer wins over the status it left', () => {
    expect(endReason({ ...ran, exitCode: 137, signal: 'SIGKILL', oomKilled: true })).toBe('oom');
    expect(endReason({ ...ran, exitCode: 1, oomKilled: true })).toBe('oom');
  });

  it('our stop counts when our SIGKILL ended the command, or setup never finished', () => {
    expect(endReason({ ...ran, exitCode: 137, signal: 'SIGKILL', stoppedBy: 'timeout' })).toBe('timeout');
    expect(endReason({ ...ran, exitCode: 137, signal: 'SIGKILL', stoppedBy: 'aborted', oomKilled: true })).toBe('aborted');
    expect(endReason({ ...ran, exitCode: 137, signal: 'SIGKILL', stoppedBy: 'aborted', started: false })).toBe('aborted');
  });

  it('a command that ended on its own just before the timer fired did not time out', () => {
    expect(endReason({ ...ran, exitCode: 0, stoppedBy: 'timeout' })).toBe('exited');
    expect(endReason({ ...ran, exitCode: 143, signal: 'SIGTERM', stoppedBy: 'aborted' })).toBe('signaled');
  });
});

describe('statusOfFailure', () => {
  it('126 and 127 are statuses; 125 is a failure', () => {
    expect(statusOfFailure(new TsboxError('x', { exitCode: 127 }), null)).toEqual({ exitCode: 127, signal: null });
    expect(statusOfFailure(new TsboxError('x', { exitCode: 126 }), null)).toEqual({ exitCode: 126, signal: null });
    expect(statusOfFailure(new TsboxError('x'), null)).toBeNull();
  });

  it('a setup interrupted by signal N is 128+N with that signal', () => {
    expect(statusOfFailure(new TsboxError('interrupted', { exitCode: 130 }), null)).toEqual({ exitCode: 130, signal: 'SIGINT' });
  });

  it('anything after our own stop is our SIGKILL', () => {
    expect(statusOfFailure(new TsboxError('x'), 'timeout')).toEqual({ exitCode: 137, signal: 'SIGKILL' });
  });
});
