import { describe, expect, it } from 'vitest';
import { decideTty, type TtyFacts } from '../../src/cli/tty-choice.js';

const atTerminal: TtyFacts = { flag: undefined, stdinIsTty: true, detach: false, rootfsFromStdin: false };

describe('decideTty', () => {
  it('allocates a terminal by default when stdin is one', () => {
    expect(decideTty(atTerminal)).toBe(true);
    expect(decideTty({ ...atTerminal, stdinIsTty: false })).toBe(false);
  });
  it('by default, not for a detached container or a rootfs read from stdin', () => {
    expect(decideTty({ ...atTerminal, detach: true })).toBe(false);
    expect(decideTty({ ...atTerminal, rootfsFromStdin: true })).toBe(false);
  });
  it('--no-tty turns it off, -t asks for it', () => {
    expect(decideTty({ ...atTerminal, flag: false })).toBe(false);
    expect(decideTty({ ...atTerminal, flag: false, stdinIsTty: false })).toBe(false);
    expect(decideTty({ ...atTerminal, flag: true })).toBe(true);
  });
  it('-t without a terminal on stdin, with -d or with a rootfs on stdin is an error', () => {
    expect(() => decideTty({ ...atTerminal, flag: true, stdinIsTty: false })).toThrow(/-t needs a terminal on stdin/);
    expect(() => decideTty({ ...atTerminal, flag: true, detach: true })).toThrow(/cannot be combined/);
    expect(() => decideTty({ ...atTerminal, flag: true, rootfsFromStdin: true })).toThrow(/stdin/);
  });
});
