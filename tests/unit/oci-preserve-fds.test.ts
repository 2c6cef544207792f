/**
 * --preserve-fds, the decisions: which of the runtime's fds are passed (and which are refused:
 * not open, or the runtime's own event loop in a gap the caller left), and how the init moves
 * them from where it received them to 3.. without losing one or its sync socket. The fds
 * reaching a real container are checked by tests/integration/oci-preserve-fds.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { preservedFds } from '../../src/oci/runtime/preserve-fds.js';
import { EXEC_PRESERVED_FROM, initPreservedFrom, placePreservedFds, preservedFdMoves } from '../../src/init/preserved-fds.js';

const table = (fds: Record<number, string>) => (fd: number) => fds[fd] ?? null;

describe('preservedFds (the runtime\'s check)', () => {
  it('passes 3..3+N-1 when all are the caller\'s; N=0 passes none and probes nothing', () => {
    expect(preservedFds(2, 'create', table({ 3: 'pipe:[1]', 4: 'socket:[2]', 5: 'anon_inode:[eventpoll]' }))).toEqual([3, 4]);
    expect(preservedFds(0, 'create', () => {
      throw new Error('probed');
    })).toEqual([]);
  });

  it('refuses an fd that is not open, naming it and the step', () => {
    expect(() => preservedFds(3, 'exec', table({ 3: 'pipe:[1]', 4: '/tmp/x' }))).toThrow(/^--preserve-fds 3 passes fds 3\.\.5, but fd 5 is not open$/);
    try {
      preservedFds(1, 'exec', table({}));
    } catch (err) {
      expect((err as { step?: string }).step).toBe('exec');
      expect((err as { hint?: string }).hint).toMatch(/Open the fds to pass as 3\.\.3/);
    }
  });

  it('refuses the runtime\'s own epoll instance in a gap the caller left', () => {
    expect(() => preservedFds(2, 'create', table({ 3: 'pipe:[1]', 4: 'anon_inode:[eventpoll]' }))).toThrow(/fd 4 was not passed by the caller \(it is the runtime's own event loop\)/);
  });
});

describe('preservedFdMoves and placePreservedFds (the init\'s side)', () => {
  it('where the inits receive them: after the sync socket, the late network namespace, exec\'s namespaces', () => {
    expect(initPreservedFrom(false)).toBe(4);
    expect(initPreservedFrom(true)).toBe(5);
    expect(EXEC_PRESERVED_FROM).toBe(6);
  });

  it('moves each down to 3.. in ascending order: no target is a later source', () => {
    for (const [from, count] of [[4, 1], [4, 5], [6, 3], [5, 40]] as const) {
      const moves = preservedFdMoves(from, count);
      expect(moves.map(([, to]) => to)).toEqual(Array.from({ length: count }, (_, i) => 3 + i));
      // Simulate the dup2s on a table of "what each fd refers to".
      const table = new Map<number, string>();
      for (let i = 0; i < count; i++) table.set(from + i, `caller-${i}`);
      for (const [src, dst] of moves) table.set(dst, table.get(src)!);
      for (let i = 0; i < count; i++) expect(table.get(3 + i)).toBe(`caller-${i}`);
    }
    expect(preservedFdMoves(4, 0)).toEqual([]);
    expect(() => preservedFdMoves(3, 1)).toThrow(/above fd 3/);
  });

  it('moves the sync socket out of the way first, above every fd involved', () => {
    const calls: string[] = [];
    const channel = { moveTo: (fd: number) => calls.push(`channel->${fd}`) };
    placePreservedFds(channel, 4, 2, {
      dupAtOrAbove: (fd, min) => {
        calls.push(`dup ${fd} >=${min}`);
        return 40;
      },
      dup2: (a, b) => void calls.push(`dup2 ${a} ${b}`),
    });
    expect(calls).toEqual(['dup 3 >=6', 'channel->40', 'dup2 4 3', 'dup2 5 4']);
    const none: string[] = [];
    placePreservedFds({ moveTo: () => none.push('moved') }, 4, 0, { dupAtOrAbove: () => 0, dup2: () => void none.push('dup2') });
    expect(none).toEqual([]);
  });
});
