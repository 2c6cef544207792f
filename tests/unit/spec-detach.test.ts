import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { buildRunSpec } from '../../src/spec/run-spec.js';

const spec = (o: Record<string, unknown>) => buildRunSpec({ rootfs: '/r.tar', ...o }, {});

describe('run flags with -d, --name and --rm', () => {
  it('--rm removes named and detached containers at exit; without it they are kept', async () => {
    expect((await spec({})).keep).toBe(false);
    expect((await spec({ name: 'a' })).keep).toBe(true);
    expect((await spec({ detach: true })).keep).toBe(true);
    expect((await spec({ name: 'a', rm: true })).keep).toBe(false);
    expect((await spec({ detach: true, rm: true })).keep).toBe(false);
  });

  it('--stats-file works with -d (the monitor writes it)', async () => {
    expect((await spec({ detach: true, statsFile: 'out.json' })).report.statsFile).toMatch(/\/out\.json$/);
  });

  it.each([
    [{ tty: true }, /-t and -d cannot be combined/],
    [{ stats: true }, /--stats and -d cannot be combined/],
    [{ rootfs: '-' }, /rootfs on stdin \("-"\) and -d cannot be combined/],
    [{ stdout: 5 }, /stdout and detach cannot be combined/],
  ])('refuses %j with -d in one line', async (o, message) => {
    const err = await spec({ detach: true, ...o }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(message);
    expect((err as UsageError).message).not.toContain('\n');
  });
});
