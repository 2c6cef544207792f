import { describe, expect, it } from 'vitest';
import { terminalsToRelay } from '../../src/runtime/stdio-relay.js';

describe('which of tsbox stdio fds are relayed instead of handed to the container', () => {
  it('only inherited fds that are terminals', () => {
    const tty = (fds: number[]) => (fd: number) => fds.includes(fd);
    expect(terminalsToRelay(['inherit', 'inherit', 'inherit'], tty([]))).toEqual([]);
    expect(terminalsToRelay(['inherit', 'inherit', 'inherit'], tty([1, 2]))).toEqual([1, 2]);
    expect(terminalsToRelay(['inherit', 'inherit', 'inherit'], tty([0, 1, 2]))).toEqual([0, 1, 2]);
    // a pipe of the output log, or nothing at all, is never a terminal of ours
    expect(terminalsToRelay(['inherit', 7, 8], tty([0, 1, 2]))).toEqual([0]);
    expect(terminalsToRelay(['ignore', 'ignore', 'ignore'], tty([0, 1, 2]))).toEqual([]);
  });
});
