/**
 * Runs last (see the sequencer in vitest.config.ts): after every other test, the host has
 * no mount, cgroup, network link, named netns or state entry of tsbox's that it did not
 * have before the suite. A failing test, not a teardown error: vitest does not fail the run
 * for errors in a global teardown.
 */
import { expect, inject, it } from 'vitest';
import { leaksBetween, snapshotHost, type HostState } from '../helpers/host-state.js';

it('leaves nothing of tsbox on the host after the whole suite', async () => {
  const before = inject('hostStateBefore') as HostState;
  // Containers of the last tests may still be exiting: give teardown a moment before judging.
  let leaks: string[] = [];
  for (let i = 0; i < 20; i++) {
    leaks = leaksBetween(before, snapshotHost(inject('tsboxRoot')));
    if (leaks.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(leaks).toEqual([]);
});
